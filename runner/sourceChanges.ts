import type { DuckDBConnection } from "@duckdb/node-api";
import { targetName, type CompiledGraph, type Target } from "./graph.ts";
import type { PlannedAction } from "./plan.ts";
import { quoteIdent, quoteLiteral, quoteQualified } from "./quote.ts";
import { META_SCHEMA } from "./results.ts";

/**
 * Rows taken out of a relation, as its deleter records them (a loader's `--replace`, a purge):
 * `duckform_meta.source_changes`. An incremental run reads only rows added since the last run and
 * cannot see a deletion, so a run rebuilds in full each incremental table downstream of a change
 * made after that table was last built. It costs one rebuild, once, and the result equals
 * `--full-refresh` by construction.
 */
const TABLE = "source_changes";

function createSql(schema: string): string {
  return `create schema if not exists ${schema};
    create table if not exists ${schema}.${quoteIdent(TABLE)} (relation varchar, changed_at timestamptz, reason varchar);`;
}

/**
 * Records that rows were taken out of `relation` (`schema.table`, in the connection's current
 * catalog), inside the caller's transaction, so that the record and the deletion commit together.
 */
export async function recordSourceChange(connection: DuckDBConnection, relation: string, reason: string): Promise<void> {
  await connection.run(createSql(quoteIdent(META_SCHEMA)));
  await connection.run(
    `insert into ${quoteIdent(META_SCHEMA)}.${quoteIdent(TABLE)} values (${quoteLiteral(relation)}, current_timestamp, ${quoteLiteral(reason)})`,
  );
}

/** Creates the table in `catalog` when missing, so that a run can read it. */
export async function ensureSourceChanges(connection: DuckDBConnection, catalog: string): Promise<void> {
  await connection.run(createSql(quoteQualified(catalog, META_SCHEMA)));
}

/**
 * The incremental actions of `plan` to rebuild in full, each with the note that says why: a
 * relation upstream of it (at any depth) changed after its last successful build, or it has no
 * recorded build at all.
 */
export async function rebuildsAfterSourceChanges(
  connection: DuckDBConnection,
  catalog: string,
  graph: CompiledGraph,
  plan: PlannedAction[],
): Promise<Map<string, string>> {
  const rebuilds = new Map<string, string>();
  const meta = (table: string) => quoteQualified(catalog, META_SCHEMA, table);
  // A dry run on a warehouse no run has touched yet: nothing to read.
  const present = await connection.runAndReadAll(
    `select count(*)::int from information_schema.tables where table_catalog = ${quoteLiteral(catalog)}
       and table_schema = ${quoteLiteral(META_SCHEMA)} and table_name in (${quoteLiteral(TABLE)}, 'run_history')`,
  );
  if (Number(present.getRows()[0]![0]) < 2) return rebuilds;
  const changes = new Map<string, { at: number; reason: string }>();
  const changed = await connection.runAndReadAll(
    `select relation, epoch_ms(max(changed_at))::double, arg_max(reason, changed_at) from ${meta(TABLE)} group by relation`,
  );
  for (const [relation, at, reason] of changed.getRows()) changes.set(String(relation), { at: Number(at), reason: String(reason) });
  if (changes.size === 0) return rebuilds;
  const built = new Map<string, number>();
  const history = await connection.runAndReadAll(
    `select action, epoch_ms(max(started_at))::double from ${meta("run_history")} where status = 'success' group by action`,
  );
  for (const [action, at] of history.getRows()) built.set(String(action), Number(at));

  const upstream = upstreamTargets(graph);
  for (const action of plan) {
    if (action.kind !== "incremental") continue;
    const lastBuilt = built.get(action.name) ?? -Infinity;
    for (const target of upstream(action.name)) {
      const change = changes.get(`${target.schema}.${target.name}`);
      if (change && change.at > lastBuilt) {
        rebuilds.set(
          action.name,
          `rebuilt in full: rows of ${target.schema}.${target.name} were taken out since its last build (${change.reason})`,
        );
        break;
      }
    }
  }
  return rebuilds;
}

/** Every target an action reads, directly or through others, by action name. */
function upstreamTargets(graph: CompiledGraph): (name: string) => Target[] {
  const direct = new Map<string, Target[]>();
  for (const a of [...graph.tables, ...graph.operations, ...graph.assertions]) direct.set(targetName(a.target), a.dependencyTargets);
  const memo = new Map<string, Target[]>();
  const walk = (name: string, seen: Set<string>): Target[] => {
    const known = memo.get(name);
    if (known) return known;
    const found: Target[] = [];
    for (const target of direct.get(name) ?? []) {
      const key = targetName(target);
      if (seen.has(key)) continue;
      seen.add(key);
      found.push(target, ...walk(key, seen));
    }
    memo.set(name, found);
    return found;
  };
  return (name) => walk(name, new Set());
}
