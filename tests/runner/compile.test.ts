import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileProject, findCore } from "../../runner/compile.ts";
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
    writeFileSync(join(core, "bundle.js"), `module.exports = require(${JSON.stringify(findCore(fixture("basic")).bundle)});`);
    expect(findCore(dir).bundle).toBe(join(core, "bundle.js"));
    expect(compileProject(dir).tables).toHaveLength(3);
  });
});

describe("Dialect", () => {
  const graph = compileProject(fixture("basic"));
  const dialect = new Dialect(graph);

  it("rewrites backtick references to known targets, and only those, as two-part names in the project's own database", () => {
    expect(dialect.translate("select * from `my-proj.analytics.source` join `my-proj.raw.events` using (id)")).toBe(
      'select * from "analytics"."source" join "raw"."events" using (id)',
    );
    expect(dialect.translate("select '`not.a.target`' as s, `x`")).toBe("select '`not.a.target`' as s, `x`");
  });

  it("keeps three parts in SQL that builds a target in another database, whose two-part names bind there", () => {
    const elsewhere = { database: "shared-data", schema: "reference", name: "v" };
    expect(dialect.translate("select * from `my-proj.analytics.source`", elsewhere)).toBe('select * from "my-proj"."analytics"."source"');
  });

  it("turns the BigQuery-escaped label of a rowConditions assertion into an E'' literal", () => {
    const rowConditions = graph.assertions.find((a) => a.target.name.endsWith("rowConditions"))!;
    expect(dialect.translateBuiltinAssertion(rowConditions.query)).toContain("E'name in (\\'a\\', \\'b\\')' AS failing_row_condition");
    expect(dialect.translateBuiltinAssertion(rowConditions.query)).toContain("  'id IS NOT NULL' AS failing_row_condition");
  });
});
