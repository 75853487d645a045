import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileProject } from "../../runner/compile.ts";
import { resolveCore } from "../../runner/core.ts";
import { Dialect } from "../../runner/dialect.ts";
import { copyFixture } from "../util/project.ts";

const fixture = (name: string) => resolve(import.meta.dirname, "..", "fixtures", name);

describe("compileProject", () => {
  it("compiles a workflow_settings.yaml project in-process, .sqlx and .js alike", () => {
    const graph = compileProject(fixture("basic"));
    expect(graph.graphErrors.compilationErrors).toEqual([]);
    expect(graph.projectConfig.defaultDatabase).toBe("my-proj");
    expect(graph.tables.map((t) => `${t.target.name}:${t.enumType}`).sort()).toEqual(["inc:INCREMENTAL", "js_view:VIEW", "source:TABLE"]);
    expect(graph.declarations.map((d) => d.target.name)).toEqual(["events"]);
  });

  it("compiles a dataform.json project", () => {
    const graph = compileProject(fixture("v2-project"));
    expect(graph.projectConfig.defaultDatabase).toBe("my-warehouse");
    expect(graph.operations.map((o) => o.target.name)).toEqual(["touch_audit"]);
  });

  it("applies --vars over the project's vars and --schema-suffix to schemas", () => {
    const graph = compileProject(fixture("basic"), { vars: { min_id: "1" }, schemaSuffix: "dev" });
    const inc = graph.tables.find((t) => t.target.name === "inc")!;
    expect(inc.target.schema).toBe("analytics_dev");
    expect(inc.query).toMatch(/where id > 1/);
  });

  it("reports each graph error with its file", () => {
    const errors = compileProject(fixture("compile_error")).graphErrors.compilationErrors;
    expect(errors.map((e) => e.fileName).sort()).toEqual(["definitions/bad_js.js", "definitions/bad_ref.sqlx", "definitions/bad_ref.sqlx"]);
  });

  it("starts every compile from a clean session", () => {
    expect(compileProject(fixture("basic")).tables).toHaveLength(3);
    expect(compileProject(fixture("basic")).tables).toHaveLength(3);
  });

  it("prefers the project's own installed @dataform/core", () => {
    const dir = copyFixture("basic");
    const core = join(dir, "node_modules", "@dataform", "core");
    mkdirSync(core, { recursive: true });
    const ours = resolveCore(fixture("basic"));
    writeFileSync(join(core, "bundle.js"), `module.exports = require(${JSON.stringify(ours.bundle)});`);
    writeFileSync(join(core, "package.json"), JSON.stringify({ name: "@dataform/core", version: ours.version }));
    expect(resolveCore(dir).bundle).toBe(join(core, "bundle.js"));
    expect(compileProject(dir).tables).toHaveLength(3);
  });
});

describe("Dialect", () => {
  const graph = compileProject(fixture("basic"));
  const dialect = new Dialect(graph);

  it("rewrites backtick references to known targets, and only those", () => {
    expect(dialect.translate("select * from `my-proj.analytics.source` join `my-proj.raw.events` using (id)")).toBe(
      'select * from "my-proj"."analytics"."source" join "my-proj"."raw"."events" using (id)',
    );
    expect(dialect.translate("select '`not.a.target`' as s, `x`")).toBe("select '`not.a.target`' as s, `x`");
  });

  it("turns the BigQuery-escaped label of a rowConditions assertion into an E'' literal", () => {
    const rowConditions = graph.assertions.find((a) => a.target.name.endsWith("rowConditions"))!;
    expect(dialect.translateBuiltinAssertion(rowConditions.query)).toContain("E'name in (\\'a\\', \\'b\\')' AS failing_row_condition");
    expect(dialect.translateBuiltinAssertion(rowConditions.query)).toContain("  'id IS NOT NULL' AS failing_row_condition");
  });
});

describe("require in the compile sandbox", () => {
  it("follows Node's rules: require(\"../\") is the folder's index.js, a folder's package.json main, node_modules from the requiring file", () => {
    const dir = copyFixture("node-require");
    // A file beside the project folder that a loader guessing `<dir>.js` would pick up.
    writeFileSync(`${dir}.js`, `module.exports = { greeting: "the wrong file, beside the project" };`);
    const graph = compileProject(dir);
    expect(graph.graphErrors.compilationErrors).toEqual([]);
    const query = (name: string) => graph.tables.find((t) => t.target.name === name)!.query;
    expect(query("from_index")).toBe("select 'from the project index.js' as greeting");
    expect(query("from_lib")).toBe("select 'the require export of lib-dep via lib/main.js' as label");
  });

  it("gives the same graph when the same project is compiled twice", () => {
    const dir = copyFixture("node-require");
    expect(JSON.stringify(compileProject(dir))).toBe(JSON.stringify(compileProject(dir)));
  });
});
