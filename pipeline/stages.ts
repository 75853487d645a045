/**
 * The pipeline's calls into the loaders, the runner, enrichment, publish and report: every import
 * of another area's module is here and nowhere else in pipeline/, so that a rename over there
 * (a loader's module renamed, say) is a one-line change.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { analyzeUsers, type AnalyzeResult } from "../enrichment/analyze/analyze.ts";
import { writeSummary, type SummaryResult } from "../enrichment/analyze/dailySummary.ts";
import { describeAnalysis } from "../enrichment/analyze/describe.ts";
import { enrich } from "../enrichment/enrich.ts";
import { parseBudget } from "../enrichment/cost.ts";
export { parseBudget };
import { createProgressBar } from "../enrichment/progress.ts";
import { providerChoice } from "../enrichment/providers/choice.ts";
import type { TaskSummary } from "../enrichment/summary.ts";
import type { LandResult } from "../loaders/land.ts";
import { loadCalendar } from "../loaders/calendar/load.ts";
import { loadHubspot } from "../loaders/hubspot/load.ts";
import { loadNdjson } from "../loaders/ndjson/load.ts";
import { loadPostgres } from "../loaders/postgres/load.ts";
import { servePglite } from "../loaders/postgres/pglite.ts";
import { startLoadProgress } from "../loaders/progress.ts";
import { DEFAULT_SAMPLE, generateSample } from "../loaders/sample/generate.ts";
import { loadSeeds } from "../loaders/seeds/load.ts";
import { loadSlack } from "../loaders/slack/load.ts";
import { loadTelegram } from "../loaders/telegram/load.ts";
import { UsageError } from "../runner/errors.ts";
import { openProjectDatabase } from "../runner/project.ts";
import { publishGold, type Manifest } from "../runner/publish.ts";
import type { RunResults } from "../runner/results.ts";
import { runProject } from "../runner/run.ts";
import { runUnitTests, type TestResult } from "../runner/unitTests.ts";
import { writeReport } from "../report/report.ts";
import { applyRetention, describeRetention } from "../privacy/retention.ts";
export { applyRetention, describeRetention };
import type { PipelineConfig, SourceConfig } from "./config.ts";

export { publishedPath } from "../runner/publish.ts";
export { describeAnalysis };
export type { RunResults, TestResult, TaskSummary, Manifest };

/**
 * The bundled sample in `<project>/data/sample`, generated the first time only, and again when a
 * source it now covers is missing (a sample from an older version): it is deterministic, so the
 * files already landed come out byte for byte the same and the ledger skips them.
 */
export async function ensureSample(projectDir: string): Promise<{ dir: string; generated: boolean }> {
  const dir = join(resolve(projectDir), "data", "sample");
  const complete = ["manifest.json", "calendar", "hubspot", join("product", "product.sql")].every((p) => existsSync(join(dir, p)));
  if (complete) return { dir, generated: false };
  await generateSample(dir, DEFAULT_SAMPLE);
  return { dir, generated: true };
}

/** The sources of the bundled sample, as a config would list them. */
export function sampleSources(dir: string): SourceConfig[] {
  return [
    { kind: "ndjson", name: "events", paths: [join(dir, "events")], table: "events" },
    { kind: "telegram", name: "telegram", paths: [join(dir, "telegram")], timezone: "UTC" },
    { kind: "slack", name: "slack", paths: [join(dir, "slack")] },
    { kind: "calendar", name: "calendar", paths: [join(dir, "calendar")] },
    { kind: "hubspot", name: "hubspot", paths: [join(dir, "hubspot")] },
    { kind: "postgres", name: "product", pglite: join(dir, "product", "product.sql") },
  ];
}

export async function seed(projectDir: string, database: string): Promise<{ tables: number; rows: number }> {
  const db = await openProjectDatabase({ project: projectDir, database });
  try {
    const results = await loadSeeds(db, projectDir);
    return { tables: results.length, rows: results.reduce((n, r) => n + r.rows, 0) };
  } finally {
    db.close();
  }
}

export interface SourceOutcome {
  files: number;
  landed: number;
  skipped: number;
  rowsLanded: number;
  rowsQuarantined: number;
  /** One line per file that was refused or failed: what a human must look at. */
  problems: string[];
  warnings: string[];
}

/** Paths with a glob character are expanded (a glob that matches nothing is an error: a typo lands nothing silently). */
async function expand(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if (!/[*?[{]/.test(p)) {
      out.push(p);
      continue;
    }
    const { glob } = await import("zx");
    const found = (await glob(p, { onlyFiles: false, absolute: true })).sort();
    if (found.length === 0) throw new UsageError(`source path ${p} matches no file`);
    out.push(...found);
  }
  return out;
}

/** Lands one configured source through its loader; the ledger skips files already landed. */
export async function loadSource(projectDir: string, database: string, source: SourceConfig): Promise<SourceOutcome> {
  const paths = "paths" in source ? await expand(source.paths) : [];
  const warnings: string[] = [];
  const db = await openProjectDatabase({ project: projectDir, database });
  const progress = startLoadProgress(`load ${source.name ?? source.kind}`);
  let results: LandResult[] = [];
  try {
    if (source.kind === "ndjson") {
      results = await loadNdjson(db, paths, { table: source.table, onProgress: progress.enabled ? (s) => progress.update(s) : undefined });
    } else if (source.kind === "telegram") {
      const loaded = await loadTelegram(db, paths, {
        timezone: source.timezone,
        onProgress: (p) => progress.update(p),
      });
      results = loaded.results;
    } else if (source.kind === "calendar") {
      const limits = source.horizon ? { horizon: new Date(`${source.horizon}T00:00:00Z`) } : {};
      results = await loadCalendar(db, paths, { limits, onProgress: (s) => progress.update(s), onWarning: (m) => warnings.push(m) });
    } else if (source.kind === "hubspot") {
      results = await loadHubspot(db, paths, { onProgress: (s) => progress.update(s), onWarning: (m) => warnings.push(m) });
    } else if (source.kind === "postgres") {
      const { tables, cursor } = source;
      const served = source.pglite === undefined ? undefined : await servePglite(source.pglite);
      try {
        const url = served?.url ?? source.url!;
        results = await loadPostgres(db, {
          url,
          tables,
          cursor,
          onProgress: (s) => progress.update(s),
          onWarning: (m) => warnings.push(m),
        });
      } finally {
        await served?.close();
      }
    } else {
      for (const path of paths) {
        results.push(
          ...(await loadSlack(db, path, {
            workspace: source.workspace,
            allowPartial: source.allow_partial,
            onProgress: (s) => progress.update(s),
            onWarning: (m) => warnings.push(m),
          })),
        );
      }
    }
  } finally {
    progress.stop();
    db.close();
  }
  const count = (s: string) => results.filter((r) => r.status === s).length;
  return {
    files: results.length,
    landed: count("landed") + count("replaced"),
    skipped: count("skipped"),
    rowsLanded: results.reduce((n, r) => n + r.rowsLanded, 0),
    rowsQuarantined: results.reduce((n, r) => n + r.rowsQuarantined, 0),
    problems: results.filter((r) => r.status === "refused" || r.status === "failed").map((r) => `${r.status} ${r.path}: ${r.error}`),
    warnings,
  };
}

export interface RunSelection {
  /** Only what reads enrichment's output (after `enrich`). */
  enrichmentDependents?: boolean;
}

export function runWarehouse(
  projectDir: string,
  database: string,
  vars: Record<string, string>,
  selection: RunSelection = {},
): Promise<RunResults> {
  return runProject(projectDir, {
    database,
    vars,
    ...(selection.enrichmentDependents ? { tags: ["enrichment"], includeDependents: true } : {}),
    warn: () => undefined,
  });
}

export function unitTests(projectDir: string, database: string, vars: Record<string, string>): Promise<TestResult[]> {
  // Unit tests state their inputs and expected rows in the clear: they test the logic, not the key.
  return runUnitTests(projectDir, { database, vars: { ...vars, pseudonymize: "false" } });
}

export async function enrichMessages(projectDir: string, database: string, config: PipelineConfig["enrichment"]): Promise<TaskSummary[]> {
  const limits = config.limits;
  const bar = createProgressBar();
  try {
    const result = await enrich({
      projectDir,
      database,
      provider: providerChoice({
        provider: config.provider,
        model: config.model,
        embeddingModel: config.embedding_model,
        baseURL: config.base_url,
        timeoutSeconds: limits.timeout_seconds,
        batchSize: limits.batch_size,
      }),
      budget: config.budget === undefined ? undefined : parseBudget(String(config.budget)),
      embeddings: config.embeddings,
      limit: limits.messages,
      concurrency: limits.concurrency,
      rateLimits: { requestsPerMinute: limits.rpm, tokensPerMinute: limits.tpm },
      retry: limits.retries === undefined ? undefined : { retries: limits.retries },
      circuit: limits.deadline_seconds === undefined ? undefined : { deadlineMs: limits.deadline_seconds * 1000 },
      onProgress: bar.update,
    });
    return result.tasks;
  } finally {
    bar.stop();
  }
}

/** `analyze users` on the latest `analysis.days`, through enrichment's provider, budget and limits. */
export function analyze(projectDir: string, database: string, config: PipelineConfig): Promise<AnalyzeResult> {
  const { enrichment: e, analysis } = config;
  return analyzeUsers({
    projectDir,
    database,
    provider: providerChoice({ provider: e.provider, model: e.model, baseURL: e.base_url, timeoutSeconds: e.limits.timeout_seconds }),
    days: analysis.days,
    maxUsersPerDay: analysis.max_users_per_day ?? null,
    budget: e.budget === undefined ? undefined : parseBudget(String(e.budget)),
    concurrency: e.limits.concurrency,
    rateLimits: { requestsPerMinute: e.limits.rpm, tokensPerMinute: e.limits.tpm },
    retry: e.limits.retries === undefined ? undefined : { retries: e.limits.retries },
    circuit: e.limits.deadline_seconds === undefined ? undefined : { deadlineMs: e.limits.deadline_seconds * 1000 },
  });
}

export function summary(projectDir: string, database: string, outDir: string, webhook: string | undefined): Promise<SummaryResult> {
  return writeSummary({ projectDir, database, outDir, webhook });
}

export function publish(projectDir: string, database: string, to: string | undefined, vars: Record<string, string>): Promise<Manifest> {
  return publishGold(projectDir, { database, to, vars });
}

export function report(projectDir: string, database: string, out: string | undefined): Promise<{ file: string; bytes: number }> {
  return writeReport(projectDir, { database, out });
}
