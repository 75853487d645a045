import { execFile } from "node:child_process";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { compileProject } from "../../runner/compile.ts";
import { resolveCore } from "../../runner/core.ts";
import { Dialect } from "../../runner/dialect.ts";
import { targetName, type Target } from "../../runner/graph.ts";
import { copyFixture } from "../util/project.ts";

const ROOT = resolve(import.meta.dirname, "..", "..");
const execFileAsync = promisify(execFile);
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
    const errors = compileProject(fixture("compile-error")).graphErrors.compilationErrors;
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

describe("a project using a real Dataform package from npm (@dataform/sql)", () => {
  it("compiles to the same actions, targets, dependencies and SQL as the official `dataform compile --json`", async () => {
    const dir = copyFixture("real-package");
    // The set-up npm install: the packages as npm installed them for duckform (a devDependency).
    for (const name of ["core", "sql"]) {
      cpSync(join(ROOT, "node_modules", "@dataform", name), join(dir, "node_modules", "@dataform", name), { recursive: true });
    }
    const { stdout } = await execFileAsync(join(ROOT, "node_modules", ".bin", "dataform"), ["compile", dir, "--json"], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const official = JSON.parse(stdout) as Record<string, Record<string, unknown>[] | undefined>;
    const ours = compileProject(dir) as unknown as Record<string, Record<string, unknown>[] | undefined>;
    expect(ours.graphErrors).toEqual({ compilationErrors: [] });
    expect(summarise(ours)).toEqual(summarise(official));
    expect(summarise(ours).tables).toHaveLength(3);
    expect(summarise(ours).tables.find((t) => t.name === "test-proj.analytics.orders")).toHaveProperty(
      "query",
      expect.stringContaining("if(amount > 100, 'large', 'small') as order_size"),
    );
    expect(summarise(ours).declarations.map((d) => d.name)).toEqual(["test-proj.raw.raw_orders", "vendor-data.raw.prices"]);
  });
});

/** A proto default (false, "", []), which the CLI's JSON leaves out, as null. */
const orNull = (v: unknown) => (v === undefined || v === false || v === "" || (Array.isArray(v) && v.length === 0) ? null : v);

/** What both compilers must agree on. */
function summarise(graph: Record<string, Record<string, unknown>[] | undefined>) {
  const name = (t: unknown) => targetName(t as Target);
  const of = (kind: string, fields: string[]) =>
    (graph[kind] ?? [])
      .map((a) => ({
        name: name(a.target),
        fileName: a.fileName,
        dependencies: ((a.dependencyTargets as Target[] | undefined) ?? []).map(name).sort(),
        ...Object.fromEntries(fields.map((f) => [f, orNull(a[f])])),
      }))
      .sort((x, y) => x.name.localeCompare(y.name));
  return {
    tables: of("tables", ["type", "query", "incrementalQuery", "uniqueKey", "tags"]),
    operations: of("operations", ["queries", "hasOutput"]),
    assertions: of("assertions", ["query"]),
    declarations: of("declarations", []),
  };
}
