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
  return enrichmentTablesOf(tableFinder(projectDir));
}

function enrichmentTablesOf(find: Finder): EnrichmentTables {
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

/** What `duckform analyze users` reads and writes besides enrichment's tables. */
export interface AnalysisTables extends EnrichmentTables {
  events: [string, string];
  seedUsers: [string, string];
  insights: [string, string];
  insightDeadLetters: [string, string];
  analysisRuns: [string, string];
  segments: [string, string];
  segmentLabels: [string, string];
}

export function analysisTables(projectDir: string): AnalysisTables {
  const find = tableFinder(projectDir);
  return {
    ...enrichmentTablesOf(find),
    events: find("int_events__deduplicated"),
    seedUsers: find("users", SEEDS_SCHEMA),
    insights: find("user_insights"),
    insightDeadLetters: find("user_insight_dead_letters"),
    analysisRuns: find("user_analysis_runs"),
    segments: find("user_segments"),
    segmentLabels: find("segment_labels"),
  };
}

type Finder = (name: string, fallbackSchema?: string) => [string, string];

function tableFinder(projectDir: string): Finder {
  const graph = compileProject(projectDir);
  assertCompiled(graph);
  return (name, fallbackSchema) => {
    const target = targetsOf(graph).find((t) => t.name === name);
    if (target) return [target.schema || graph.projectConfig.defaultSchema, target.name];
    if (fallbackSchema) return [fallbackSchema, name];
    throw new UserError(`the project defines no action named "${name}", which enrichment needs`);
  };
}

function targetsOf(graph: CompiledGraph): Target[] {
  return [...graph.tables, ...graph.operations].map((a) => a.target).concat(graph.declarations.map((d) => d.target));
}

/** `[schema, table]` of the named actions of the project (what reads gold, as `duckform summary` does), and enrichment's, from one compile. */
export function projectTables<K extends string>(
  projectDir: string,
  names: Record<K, string>,
): { tables: Record<K, [string, string]>; enrichment: EnrichmentTables } {
  const find = tableFinder(projectDir);
  const tables = Object.fromEntries(Object.entries<string>(names).map(([k, name]) => [k, find(name)])) as Record<K, [string, string]>;
  return { tables, enrichment: enrichmentTablesOf(find) };
}
