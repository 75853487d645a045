import { compileProject } from "../runner/compile.ts";
import { UserError } from "../runner/errors.ts";
import type { CompiledGraph, Target } from "../runner/graph.ts";
import { assertCompiled } from "../runner/compile.ts";
import { SEEDS_SCHEMA } from "../loaders/seeds/load.ts";

/** `[schema, table]` of every table enrichment reads or writes, as the project's graph names them. */
export interface EnrichmentTables {
  messages: [string, string];
  users: [string, string];
  annotations: [string, string];
  deadLetters: [string, string];
  runs: [string, string];
  embeddings: [string, string];
  categories: [string, string];
  platforms: [string, string];
  companies: [string, string];
  episodes: [string, string];
}

/**
 * Resolves the tables from the compiled project, so a schema suffix or a renamed schema is
 * followed. Seeds that the project does not declare are read from the seeds schema.
 */
export function enrichmentTables(projectDir: string): EnrichmentTables {
  const graph = compileProject(projectDir);
  assertCompiled(graph);
  const find = (name: string, fallbackSchema?: string): [string, string] => {
    const target = targetsOf(graph).find((t) => t.name === name);
    if (target) return [target.schema || graph.projectConfig.defaultSchema, target.name];
    if (fallbackSchema) return [fallbackSchema, name];
    throw new UserError(`the project defines no action named "${name}", which enrichment needs`);
  };
  return {
    messages: find("int_messages"),
    users: find("int_users"),
    annotations: find("message_annotations"),
    deadLetters: find("annotation_dead_letters"),
    runs: find("enrichment_runs"),
    embeddings: find("message_embeddings"),
    categories: find("message_categories", SEEDS_SCHEMA),
    platforms: find("known_platforms", SEEDS_SCHEMA),
    companies: find("company_mapping", SEEDS_SCHEMA),
    episodes: find("podcast_episodes", SEEDS_SCHEMA),
  };
}

function targetsOf(graph: CompiledGraph): Target[] {
  return [...graph.tables, ...graph.operations].map((a) => a.target).concat(graph.declarations.map((d) => d.target));
}
