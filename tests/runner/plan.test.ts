import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileProject } from "../../runner/compile.ts";
import type { CompiledGraph } from "../../runner/graph.ts";
import { matchPattern, planRun, type Selection } from "../../runner/plan.ts";

const graph = compileProject(resolve(import.meta.dirname, "..", "fixtures", "selection"));
/** The planned actions' last name parts, in the order they would run. */
const names = (selection?: Selection) => planRun(graph, selection).map((a) => a.name.split(".").pop());

describe("planRun", () => {
  it("plans every action without selectors, each after what it depends on, with its kind and flags", () => {
    const plan = planRun(graph);
    expect(plan.map((a) => [a.name, a.kind, a.disabled])).toEqual([
      ["test-proj.analytics.a", "table", false],
      ["test-proj.analytics.b", "table", false],
      ["test-proj.analytics.c", "view", false],
      ["test-proj.analytics.e", "table", true],
      ["test-proj.analytics.f", "table", false],
      ["test-proj.reporting.d", "table", false],
    ]);
    expect(plan.find((a) => a.name.endsWith(".c"))?.dependencies).toEqual(["test-proj.analytics.b"]);
  });

  it("selects by name or tag, with dependencies or dependents when asked, and drops dependencies left out", () => {
    expect(names({ actions: ["b"] })).toEqual(["b"]);
    expect(planRun(graph, { actions: ["b"] })[0]!.dependencies).toEqual([]);
    expect(names({ actions: ["b"], includeDependencies: true })).toEqual(["a", "b"]);
    expect(names({ actions: ["b"], includeDependents: true })).toEqual(["b", "c"]);
    expect(names({ tags: ["middle"], includeDependencies: true, includeDependents: true })).toEqual(["a", "b", "c"]);
    expect(names({ tags: ["other"] })).toEqual(["e", "f", "d"]);
    expect(names({ actions: ["reporting.d"], tags: ["middle"] })).toEqual(["b", "d"]);
  });

  it("refuses dependency flags without a selector, and a tag no action has", () => {
    expect(() => planRun(graph, { includeDependencies: true })).toThrow("--include-deps and --include-dependents need --actions or --tags");
    expect(() => planRun(graph, { tags: ["nope"] })).toThrow("no action has any of the tags nope");
  });

  it("stops at a circular dependency, naming an action on it and its file", () => {
    const table = (name: string, dependsOn: string) => ({
      target: { database: "db", schema: "s", name },
      fileName: `definitions/${name}.sqlx`,
      disabled: false,
      tags: [],
      enumType: "TABLE",
      dependencyTargets: [{ database: "db", schema: "s", name: dependsOn }],
    });
    const circular = {
      tables: [table("x", "y"), table("y", "x")],
      operations: [],
      assertions: [],
      declarations: [],
    } as unknown as CompiledGraph;
    expect(() => planRun(circular)).toThrow("circular dependency through db.s.x (definitions/x.sqlx)");
  });
});

describe("matchPattern", () => {
  const all = ["p.analytics.orders", "p.staging.orders", "p.analytics.customers"];

  it("matches a bare name by its last part, a dotted one by its tail at a dot", () => {
    expect(matchPattern("customers", all)).toEqual(["p.analytics.customers"]);
    expect(matchPattern("analytics.orders", all)).toEqual(["p.analytics.orders"]);
    expect(matchPattern("p.staging.orders", all)).toEqual(["p.staging.orders"]);
  });

  it("refuses a pattern that matches nothing or more than one action", () => {
    expect(() => matchPattern("payments", all)).toThrow('no action matches "payments"');
    expect(() => matchPattern("orders", all)).toThrow(
      '"orders" is ambiguous: it matches p.analytics.orders, p.staging.orders; name the schema too',
    );
    expect(() => matchPattern("ytics.orders", all)).toThrow('no action matches "ytics.orders"');
  });
});
