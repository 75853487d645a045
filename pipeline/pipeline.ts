import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { PSEUDONYM_KEY_VARIABLE, projectDatabase } from "../runner/database.ts";
import { UsageError, messageOf } from "../runner/errors.ts";
import { configSchema, readConfig, retentionOf, varLine, type PipelineConfig } from "./config.ts";
import { digestOf } from "./digest.ts";
import { retryTransient } from "./retry.ts";
import { LockBusyError, PipelineLock } from "./lock.ts";
import { logPath, openLog, type LogFormat } from "./log.ts";
import { headline, ledgerMark, stageHistory, type StageHistory } from "./runs.ts";
import { isOwed, runStage, type Context, type StageWork } from "./stageRun.ts";
import { EXIT, alert, printEnd, type PipelineResult } from "./outcome.ts";
import * as stages from "./stages.ts";
import { projectCatalog, projectVars, validateVars, type VarSource } from "./vars.ts";

export interface PipelineOptions {
  projectDir: string;
  /** duckform.yaml; without it, the bundled sample in data/sample. */
  config?: string;
  /** Overrides the config's database. */
  database?: string;
  /** `--vars`: over the config's and the project's. */
  vars?: Record<string, string>;
  waitSeconds?: number;
  logFormat?: LogFormat;
}

/** Everything before a stage runs that can be wrong with the command line or the config: exit 2, nothing opened. */
function prepare(options: PipelineOptions): { config: PipelineConfig; vars: Record<string, string>; database: string; catalog: string } {
  const projectDir = resolve(options.projectDir);
  const config: PipelineConfig = options.config ? readConfig(options.config) : { ...configSchema.parse({}), file: null };
  const sources: Record<string, VarSource> = {};
  for (const [k, v] of Object.entries(projectVars(projectDir))) sources[k] = { value: v, from: "the project's vars" };
  const text = config.file ? readFileSync(config.file, "utf8") : "";
  for (const [k, v] of Object.entries(config.vars)) sources[k] = { value: v, from: `${config.file}:${varLine(text, k) ?? "?"}` };
  for (const [k, v] of Object.entries(options.vars ?? {})) sources[k] = { value: v, from: "--vars" };
  if (config.pseudonymize) sources.pseudonymize = { value: "true", from: `${config.file}: pseudonymize` };
  if (config.pseudonymize && !process.env[PSEUDONYM_KEY_VARIABLE])
    throw new UsageError(
      `${config.file}: pseudonymize is true but $${PSEUDONYM_KEY_VARIABLE} is not set: export the key (any secret; keep it, the same key gives the same pseudonyms)`,
    );
  validateVars(sources);
  if (config.enrichment.budget !== undefined) {
    try {
      stages.parseBudget(String(config.enrichment.budget));
    } catch (error) {
      throw new UsageError(`${config.file}: enrichment.budget: ${messageOf(error)}`);
    }
  }
  const { file: database, catalog } = projectDatabase(projectDir, options.database ?? config.database, projectCatalog(projectDir));
  return { config, vars: Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, v.value])), database, catalog };
}

/**
 * `duckform pipeline`: seed → load every source → run → enrich → run what reads enrichment →
 * unit tests → publish → report, in-process, one pipeline per database at a time. Each stage
 * that has nothing new since the last run is skipped and says so; each stage's outcome is a row
 * of duckform_meta.pipeline_runs, which is also what the next run reads to know what is new.
 */
export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const projectDir = resolve(options.projectDir);
  const { config, vars, database, catalog } = prepare(options);
  const runId = randomUUID();
  const log = openLog(logPath(database), options.logFormat ?? "human", { runId });
  const result: PipelineResult = {
    exitCode: EXIT.ok,
    runId,
    database,
    published: null,
    report: null,
    log: logPath(database),
    headline: null,
    stages: [],
  };
  let lock: PipelineLock;
  try {
    lock = await PipelineLock.open(database, { waitSeconds: options.waitSeconds });
  } catch (error) {
    if (!(error instanceof LockBusyError)) throw error;
    log.failure(`duckform: ${error.message}`, { holder: error.holder });
    log.close();
    return { ...result, exitCode: EXIT.busy };
  }
  const release = () => lock.close();
  const onSignal = (signal: NodeJS.Signals) => {
    release();
    log.failure(`duckform: pipeline stopped by ${signal}; the next run resumes from the last finished stage`);
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    if (lock.tookOverFrom) {
      log.line(
        `took over a stale lock of process ${lock.tookOverFrom.pid} (started ${lock.tookOverFrom.startedAt}), which is no longer running`,
      );
    }
    log.line(`pipeline ${runId} on ${database}${config.file ? ` (config ${config.file})` : " (the bundled sample)"}`);
    await runStages({ projectDir, config, vars, database, catalog, runId, log, result });
    try {
      result.headline = await headline(database, catalog);
    } catch (error) {
      log.detail(`no headline: ${messageOf(error)}`);
    }
    printEnd(log, result);
    if (config.alerts && (result.exitCode === EXIT.quality || result.exitCode === EXIT.system))
      await alert(config.alerts.webhook, result, log);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    release();
    log.close();
  }
  return result;
}

async function runStages(ctx: Context): Promise<void> {
  const { projectDir, config, vars, database, catalog, log, result } = ctx;
  const stage = (name: string, work: () => Promise<StageWork>) => runStage(ctx, name, work);
  const history = existsSync(database)
    ? await retryTransient(
        () => stageHistory(database, catalog),
        (e) => log.line(`  ${messageOf(e)}; retrying`),
      )
    : new Map<string, StageHistory>();
  const done = (name: string) => history.get(name)?.ok;
  const owed = (name: string, upstream: (stage: string) => boolean) => isOwed(history, result.stages, name, upstream);

  let sources = config.sources;
  if (!config.file) {
    const sample = await stage("sample", async () => {
      const { dir, generated } = await stages.ensureSample(projectDir);
      const listed = stages.sampleSources(dir);
      sources = listed.sources;
      const older = listed.missing.length > 0 ? ` (an older sample without ${listed.missing.join(", ")}: remove it to get them)` : "";
      return generated
        ? { summary: `generated the bundled sample in ${dir}` }
        : { status: "skipped", summary: `already in ${dir}${older}` };
    });
    if (!sample) return;
  }

  const seedDigest = digestOf(projectDir, ["seeds"]);
  const seeded = await stage("seed", async () => {
    if (done("seed")?.detail.digest === seedDigest) return { status: "skipped", summary: "seeds/ unchanged since the last run" };
    const s = await stages.seed(projectDir, database);
    return {
      summary: `${s.tables} tables, ${s.rows.toLocaleString("en")} rows`,
      counts: { tables: s.tables, rows: s.rows },
      detail: { digest: seedDigest },
    };
  });
  if (!seeded) return;

  for (const source of sources) {
    const loaded = await stage(`load ${source.name ?? source.kind}`, async () => {
      const o = await stages.loadSource(projectDir, database, source);
      for (const w of o.warnings) log.detail(`warning: ${w}`);
      const files = `${o.landed} of ${o.files} files new`;
      return {
        status: o.problems.length > 0 ? "failed" : o.landed === 0 ? "skipped" : "ok",
        summary:
          o.landed === 0 && o.problems.length === 0
            ? `nothing new (${o.files} files already landed)`
            : `${files}, ${o.rowsLanded.toLocaleString("en")} rows landed, ${o.rowsQuarantined.toLocaleString("en")} quarantined`,
        counts: {
          files: o.files,
          files_landed: o.landed,
          rows_landed: o.rowsLanded,
          rows_quarantined: o.rowsQuarantined,
          files_failed: o.problems.length,
        },
        exit: o.problems.length > 0 ? EXIT.system : undefined,
        failures: o.problems.map((p) => `${p}; the other files landed, and the next run retries this one`),
      };
    });
    if (!loaded) return;
  }

  if (sources.some(retentionOf)) {
    const kept = await stage("retention", async () => {
      const { deleted, summary } = stages.describeRetention(await stages.applyRetention(database, catalog, sources));
      return { status: deleted > 0 ? "ok" : "skipped", summary, counts: { rows_deleted: deleted } };
    });
    if (!kept) return;
  }

  const projectDigest = digestOf(
    projectDir,
    ["definitions", "includes", "dataform.json", "workflow_settings.yaml", "package.json"],
    JSON.stringify(vars),
  );
  const ledger = existsSync(database) ? await ledgerMark(database, catalog) : "no database";
  const runWarehouse = (name: string, enrichmentDependents: boolean, skip: string | null) =>
    stage(name, async () => {
      if (skip) return { status: "skipped", summary: skip };
      // Rows retention took out are recorded as source changes: the run rebuilds the incremental tables below them.
      const run = await stages.runWarehouse(projectDir, database, vars, { enrichmentDependents });
      for (const a of run.actions)
        log.detail(`${a.status} ${a.name}`, {
          action: a.name,
          status: a.status,
          seconds: a.seconds,
          rows: a.rowsAffected,
          error: a.error?.message,
        });
      const failed = run.actions.filter((a) => a.status === "failed");
      const assertionsOnly = failed.every((a) => a.type === "assertion");
      const count = (s: string) => run.actions.filter((a) => a.status === s).length;
      return {
        status: failed.length > 0 ? "failed" : "ok",
        summary: `${count("success")} actions succeeded, ${failed.length} failed, ${count("skipped")} skipped in ${run.seconds.toFixed(1)} s`,
        counts: {
          actions: run.actions.length,
          actions_failed: failed.length,
          assertions_failed: failed.filter((a) => a.type === "assertion").length,
        },
        detail: { digest: projectDigest, ledger, seeds: seedDigest, runId: run.runId, failed: failed.map((a) => a.name) },
        exit: failed.length === 0 ? undefined : assertionsOnly ? EXIT.quality : EXIT.system,
        failures: failed.map(
          (a) =>
            `${a.type === "assertion" ? "assertion failed" : "failed"}: ${a.name} (${a.fileName})${a.error ? `: ${a.error.message}` : ""}`,
        ),
      };
    });
  const previous = done("run")?.detail;
  const nothingNew =
    !owed("run", (s) => s === "seed" || s.startsWith("load ") || s === "retention") &&
    previous?.digest === projectDigest &&
    previous?.ledger === ledger &&
    previous?.seeds === seedDigest;
  if (!(await runWarehouse("run", false, nothingNew ? "nothing landed and the project is unchanged since the last successful run" : null)))
    return;

  let annotated = 0;
  const enriched = await stage("enrich", async () => {
    if (!config.enrichment.enabled) return { status: "skipped", summary: "enrichment.enabled is false" };
    if (!owed("enrich", (s) => s === "run") && done("enrich")?.detail.left === 0)
      return { status: "skipped", summary: "silver is unchanged and nothing was left to annotate" };
    const tasks = await stages.enrichMessages(projectDir, database, config.enrichment);
    annotated = tasks.reduce((n, t) => n + t.messagesDone, 0);
    const left = tasks.reduce((n, t) => n + t.messagesLeft, 0);
    const down = tasks.find((t) => t.status === "provider_unavailable" || t.status === "budget_reached");
    return {
      // Nothing annotated and nothing left is no work: what reads annotations need not run again.
      status: annotated === 0 && left === 0 ? "skipped" : "ok",
      summary:
        tasks
          .map((t) => `${t.task} ${t.messagesDone.toLocaleString("en")} new, ${t.messagesReused.toLocaleString("en")} reused`)
          .join("; ") + (down ? `; stopped early: ${down.note ?? down.status} (${left} messages wait for the next run)` : ""),
      counts: { messages_annotated: annotated, messages_left: left, dead_lettered: tasks.reduce((n, t) => n + t.messagesDeadLettered, 0) },
      detail: { left },
    };
  });
  if (!enriched) return;
  let analysed = 0;
  const analyzed = await stage("analyze", async () => {
    if (!config.analysis.enabled) return { status: "skipped", summary: "analysis.enabled is false" };
    if (!owed("analyze", (s) => s === "run" || s === "enrich"))
      return { status: "skipped", summary: "nothing ran since the last analysis" };
    const r = await stages.analyze(projectDir, database, config);
    analysed = r.days.reduce((n, d) => n + d.analysed, 0);
    return { summary: stages.describeAnalysis(r).join("; "), counts: { users_analysed: analysed, requests: r.requests } };
  });
  if (!analyzed) return;
  const afterRun = (s: string) => s === "run" || s === "run enrichment";
  const fresh = annotated > 0 || analysed > 0 || owed("run enrichment", (s) => s === "enrich" || s === "analyze");
  if (!(await runWarehouse("run enrichment", true, fresh ? null : "enrich and analyze found nothing new"))) return;

  const tested = await stage("test", async () => {
    if (!owed("test", afterRun)) return { status: "skipped", summary: "nothing ran since the tests last passed" };
    const tests = await stages.unitTests(projectDir, database, vars);
    const failed = tests.filter((t) => !t.successful);
    return {
      status: failed.length > 0 ? "failed" : "ok",
      summary: `${tests.length - failed.length} unit tests passed, ${failed.length} failed`,
      counts: { tests: tests.length, tests_failed: failed.length },
      detail: { failed: failed.map((t) => t.name) },
      exit: failed.length > 0 ? EXIT.quality : undefined,
      failures: failed.map((t) => `unit test failed: ${t.name} (${t.fileName})${t.messages.map((m) => `\n    ${m}`).join("")}`),
    };
  });
  if (!tested) return;

  const target = stages.publishedPath(database, config.publish);
  const published = await stage("publish", async () => {
    const failed = result.stages.filter((s) => (s.stage.startsWith("run") || s.stage === "test") && s.status === "failed");
    if (failed.length > 0) {
      return {
        status: "failed",
        summary: `not published: ${failed.map((s) => s.stage).join(" and ")} failed (above); ${target} keeps the previous snapshot`,
      };
    }
    if (!owed("publish", afterRun) && existsSync(target)) {
      result.published = target;
      return { status: "skipped", summary: `nothing ran since the last publish; ${target} is current` };
    }
    const m = await stages.publish(projectDir, database, config.publish, vars);
    result.published = m.file;
    return {
      summary: `${m.tables.length} tables, ${m.tables.reduce((n, t) => n + t.rows, 0).toLocaleString("en")} rows → ${m.file}`,
      counts: { tables: m.tables.length },
    };
  });
  if (!published) return;

  const reportFile = config.report ?? join(dirname(database), "report.html");
  await stage("report", async () => {
    if (!owed("report", (s) => s !== "report") && existsSync(reportFile)) {
      result.report = reportFile;
      return { status: "skipped", summary: `nothing changed since the last report; ${reportFile} is current` };
    }
    const r = await stages.report(projectDir, database, config.report);
    result.report = r.file;
    return { summary: `${(r.bytes / 1e6).toFixed(1)} MB → ${r.file}` };
  });
  await stage("summary", async () => {
    if (!config.analysis.enabled || !owed("summary", afterRun)) return { status: "skipped", summary: "nothing new to summarize" };
    const s = await stages.summary(projectDir, database, dirname(reportFile), config.analysis.summary_webhook);
    return { summary: `${s.file ?? ""}${s.posted ? ", posted to the webhook" : s.note ? ` (${s.note})` : ""}` };
  });
}
