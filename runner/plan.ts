import { UserError } from "./errors.ts";
import { targetName, type Assertion, type CompiledGraph, type Declaration, type Operation, type Table, type Target } from "./graph.ts";

export type TableKind = "table" | "view" | "incremental";
export type ActionKind = TableKind | "operation" | "assertion";

/** What every planned action has, whatever its kind. */
interface PlannedBase {
  /** Dataform's readable name: `database.schema.name`. */
  name: string;
  target: Target;
  fileName: string;
  disabled: boolean;
  tags: string[];
  /** Names of selected actions this one waits for. */
  dependencies: string[];
  /** Declared sources this action reads, checked for existence before it runs. */
  declarations: Declaration[];
}

/** One action of the run, in the order and with the dependencies the scheduler needs; its kind says which compiled action it carries. */
export type PlannedAction =
  | (PlannedBase & { kind: TableKind; table: Table })
  | (PlannedBase & { kind: "operation"; operation: Operation })
  | (PlannedBase & { kind: "assertion"; assertion: Assertion });

export interface Selection {
  actions?: string[];
  tags?: string[];
  includeDependencies?: boolean;
  includeDependents?: boolean;
}

/**
 * Chooses the actions to run the way `dataform run` does (cli/api/commands/prune.ts): all of
 * them without selectors; else those named by `--actions` or carrying a `--tags` tag, plus their
 * transitive dependencies and/or dependents when asked. Returned in dependency order.
 */
export function planRun(graph: CompiledGraph, selection: Selection = {}): PlannedAction[] {
  const all = allActions(graph);
  const byName = new Map(all.map((a) => [a.name, a]));
  const names = [...byName.keys()];
  const hasSelector = (selection.actions?.length ?? 0) > 0 || (selection.tags?.length ?? 0) > 0;
  if (!hasSelector && (selection.includeDependencies || selection.includeDependents)) {
    throw new UserError("--include-deps and --include-dependents need --actions or --tags");
  }

  let included = new Set(names);
  if (hasSelector) {
    included = new Set<string>();
    for (const pattern of selection.actions ?? []) {
      for (const name of matchPattern(pattern, names)) included.add(name);
    }
    const tags = new Set(selection.tags ?? []);
    if (tags.size > 0) {
      const tagged = all.filter((a) => a.tags.some((t) => tags.has(t)));
      if (tagged.length === 0) throw new UserError(`no action has any of the tags ${[...tags].join(", ")}`);
      for (const a of tagged) included.add(a.name);
    }
    if (selection.includeDependencies) closeOver(included, (name) => byName.get(name)!.dependencies);
    if (selection.includeDependents) {
      const dependents = new Map<string, string[]>();
      for (const a of all) {
        for (const d of a.dependencies) dependents.set(d, [...(dependents.get(d) ?? []), a.name]);
      }
      closeOver(included, (name) => dependents.get(name) ?? []);
    }
  }

  const selected = all.filter((a) => included.has(a.name));
  return orderByDependencies(selected.map((a) => ({ ...a, dependencies: a.dependencies.filter((d) => included.has(d)) })));
}

/**
 * A pattern without a dot matches an action's last name part; with dots, a whole name or its
 * tail at a dot (so `analytics.orders` finds `my-project.analytics.orders`). Dataform ignores a
 * pattern that matches nothing; we stop, since a typo would otherwise run nothing silently.
 */
export function matchPattern(pattern: string, names: string[]): string[] {
  const matches = pattern.includes(".")
    ? names.filter((n) => n === pattern || n.endsWith(`.${pattern}`))
    : names.filter((n) => n.split(".").pop() === pattern);
  if (matches.length === 0) throw new UserError(`no action matches "${pattern}"`);
  if (matches.length > 1) {
    throw new UserError(`"${pattern}" is ambiguous: it matches ${matches.join(", ")}; name the schema too`);
  }
  return matches;
}

function allActions(graph: CompiledGraph): PlannedAction[] {
  const declarations = new Map(graph.declarations.map((d) => [targetName(d.target), d]));
  const actionNames = new Set<string>([
    ...graph.tables.map((a) => targetName(a.target)),
    ...graph.operations.map((a) => targetName(a.target)),
    ...graph.assertions.map((a) => targetName(a.target)),
  ]);
  const base = (a: Table | Operation | Assertion) => {
    const deps = a.dependencyTargets.map(targetName);
    return {
      name: targetName(a.target),
      target: a.target,
      fileName: a.fileName,
      disabled: a.disabled,
      tags: a.tags,
      dependencies: deps.filter((d) => actionNames.has(d)),
      declarations: deps.filter((d) => declarations.has(d)).map((d) => declarations.get(d)!),
    };
  };
  return [
    ...graph.tables.map((t): PlannedAction => ({ ...base(t), kind: tableKind(t), table: t })),
    ...graph.operations.map((o) => ({ ...base(o), kind: "operation" as const, operation: o })),
    ...graph.assertions.map((a) => ({ ...base(a), kind: "assertion" as const, assertion: a })),
  ];
}

function tableKind(table: Table): TableKind {
  switch (table.enumType) {
    case "INCREMENTAL":
      return "incremental";
    case "VIEW":
      return "view";
    case "TABLE":
      return "table";
    default:
      // Graphs from old cores carry only the string type.
      return table.type === "incremental" ? "incremental" : table.type === "view" ? "view" : "table";
  }
}

function closeOver(set: Set<string>, next: (name: string) => string[]): void {
  const queue = [...set];
  while (queue.length > 0) {
    for (const n of next(queue.pop()!)) {
      if (!set.has(n)) {
        set.add(n);
        queue.push(n);
      }
    }
  }
}

/** Stable topological order: each action after its dependencies, else in graph order. */
function orderByDependencies(actions: PlannedAction[]): PlannedAction[] {
  const byName = new Map(actions.map((a) => [a.name, a]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const ordered: PlannedAction[] = [];
  const visit = (a: PlannedAction) => {
    if (done.has(a.name)) return;
    if (visiting.has(a.name)) throw new UserError(`circular dependency through ${a.name} (${a.fileName})`);
    visiting.add(a.name);
    for (const d of a.dependencies) visit(byName.get(d)!);
    visiting.delete(a.name);
    done.add(a.name);
    ordered.push(a);
  };
  for (const a of [...actions].sort((x, y) => x.name.localeCompare(y.name))) visit(a);
  return ordered;
}
