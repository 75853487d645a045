import { randomUUID } from "node:crypto";
import type { DuckDBConnection } from "@duckdb/node-api";
import pLimit from "p-limit";
import { UserError } from "../../runner/errors.ts";
import { openProjectDatabase } from "../../runner/project.ts";
import { quoteQualified } from "../../runner/quote.ts";
import { createCircuit, DEFAULT_CIRCUIT, type Circuit } from "../circuit.ts";
import { budgetSpend, costOf, createBudgetGuard, priceOf, type BudgetGuard, type Price } from "../cost.ts";
import { loadLexicon } from "../lexicon.ts";
import type { ProviderChoice } from "../providers/choice.ts";
import { createProvider } from "../providers/createProvider.ts";
import { RateLimiter } from "../rateLimiter.ts";
import { createRedactor, type Redactor } from "../redact.ts";
import { DEFAULT_RETRY, describeFailure, sendRequest, type RetryPolicy } from "../retry.ts";
import { analysisTables, type AnalysisTables } from "../tables.ts";
import { createAnalyst, type Analyst } from "./analysts.ts";
import { latestActiveDay, loadUserDays, wireContext } from "./context.ts";
import { ANALYSIS_PROMPT_VERSION, analysisKey, validateAnalysis, withMessageKeys, type Analysis } from "./insight.ts";
import { selectUsers, type Selected, type SelectionReport } from "./select.ts";
import { segmentUsers, type SegmentReport } from "./segment.ts";
import { requireTable, type CallOptions } from "../enrich.ts";
import { noCalls, type CallCounts } from "../summary.ts";

export interface AnalyzeOptions extends CallOptions {
  projectDir: string;
  database?: string;
  provider: ProviderChoice;
  /** The last day analysed (default: the latest day anyone was active). */
  date?: string;
  /** Days analysed, ending at `date` (default 1). */
  days?: number;
  /** Seed 002's scaling plan: everyone up to this many a day, else a stratified sample plus every anomaly. */
  maxUsersPerDay?: number | null;
  prices?: { input?: number; output?: number };
  onProgress?: (done: number, total: number) => void;
}

export type AnalyzeStatus = "complete" | "budget_reached" | "provider_unavailable" | "dry_run";

export interface DayReport extends SelectionReport {
  day: string;
  cached: number;
  analysed: number;
  deadLettered: number;
  left: number;
}

export interface AnalyzeResult extends CallCounts {
  runId: string;
  provider: string;
  model: string;
  status: AnalyzeStatus;
  note?: string;
  days: DayReport[];
  segments: SegmentReport | null;
}

interface Run {
  runId: string;
  analyst: Analyst;
  tables: AnalysisTables;
  redact: Redactor;
  /** Words of known people's names, lowercase: never part of a label. */
  nameWords: Set<string>;
  limiter: RateLimiter | null;
  retry: RetryPolicy;
  circuit: Circuit;
  guard: BudgetGuard;
  price: Price;
  result: AnalyzeResult;
}

/**
 * `duckform analyze users`: for each day, the people active that day who consented, selected by
 * the scaling plan, each analysed from a redacted context of their messages, recent history and
 * behaviour. An analysis is cached by user × day × content × prompt version × model; an answer
 * that fails the schema or cites a message outside its context is asked again, then
 * dead-lettered. A provider that is down ends the run cleanly: what was done is kept, gold still
 * builds from the metrics. Then the segments are recomputed from behaviour and message
 * embeddings (segment.ts), through the same limiter, retries, circuit and budget.
 */
export async function analyzeUsers(options: AnalyzeOptions): Promise<AnalyzeResult> {
  const tables = analysisTables(options.projectDir);
  const db = await openProjectDatabase({ project: options.projectDir, database: options.database });
  try {
    return await db.withConnection(async (connection) => {
      for (const table of [
        tables.messages,
        tables.users,
        tables.events,
        tables.insights,
        tables.insightDeadLetters,
        tables.analysisRuns,
        tables.segments,
        tables.segmentLabels,
        tables.embeddings,
        tables.runs,
      ])
        await requireTable(connection, table);
      const lexicon = await loadLexicon(connection, tables);
      const analyst = createAnalyst(options.provider);
      const price = priceOf(analyst.name, analyst.model, options.prices ?? {});
      if (options.budget?.kind === "usd" && !price.known)
        throw new UserError(`--budget in dollars needs the price of ${analyst.model}: pass --input-price and --output-price`);
      const run: Run = {
        runId: randomUUID(),
        analyst,
        tables,
        redact: createRedactor(lexicon.identities),
        nameWords: new Set(
          lexicon.identities.names
            .flatMap((n) => n.toLowerCase().split(/\s+/))
            .map((w) => w.replace(/[^\p{L}\p{N}]/gu, ""))
            .filter((w) => w.length >= 2),
        ),
        limiter: analyst.remote ? new RateLimiter(options.rateLimits ?? {}) : null,
        retry: { ...DEFAULT_RETRY, ...options.retry },
        circuit: createCircuit(analyst.name, {
          ...DEFAULT_CIRCUIT,
          ...(analyst.remote ? {} : { deadlineMs: Infinity }),
          ...options.circuit,
        }),
        guard: createBudgetGuard(options.budget),
        price,
        result: {
          runId: "",
          provider: analyst.name,
          model: analyst.model,
          status: options.dryRun ? "dry_run" : "complete",
          days: [],
          ...noCalls(),
          segments: null,
        },
      };
      run.result.runId = run.runId;
      try {
        const last = options.date ?? (await latestActiveDay(connection, tables));
        if (last === null) return run.result;
        if (!/^\d{4}-\d{2}-\d{2}$/.test(last) || Number.isNaN(Date.parse(last)))
          throw new UserError(`--date: expected YYYY-MM-DD, got "${last}"`);
        for (const day of daysEnding(last, options.days ?? 1)) await analyseDay(connection, run, day, options);
        const embedder = createProvider(options.provider, lexicon);
        run.result.segments = await segmentUsers(connection, tables, last, {
          runId: run.runId,
          choice: options.provider,
          redact: run.redact,
          nameWords: run.nameWords,
          limiter: run.limiter,
          retry: run.retry,
          circuit: run.circuit,
          guard: run.guard,
          price: run.price,
          concurrency: analyst.remote ? (options.concurrency ?? 4) : 1,
          dryRun: options.dryRun === true,
          counts: run.result,
          embedder,
          embeddingPrice: priceOf(embedder.name, embedder.embeddingModel),
        });
        if (run.circuit.down && run.result.status === "complete") {
          run.result.status = "provider_unavailable";
          run.result.note = run.circuit.down;
        } else if (run.guard.reached && run.result.status === "complete") run.result.status = "budget_reached";
        return run.result;
      } finally {
        run.circuit.close();
      }
    });
  } finally {
    db.close();
  }
}

async function analyseDay(connection: DuckDBConnection, run: Run, day: string, options: AnalyzeOptions): Promise<void> {
  const { analyst, result } = run;
  const days = await loadUserDays(connection, run.tables, day);
  const { selected, report } = selectUsers(days, options.maxUsersPerDay ?? null);
  const insights = quoteQualified(...run.tables.insights);
  const done = new Set(
    (
      await connection.runAndReadAll(`select analysis_key from ${insights} where analysis_date = ?::date and model = ?`, [
        day,
        analyst.model,
      ])
    )
      .getRows()
      .map((r) => String(r[0])),
  );
  const keyed = selected.map((s) => ({ ...s, key: analysisKey(s.day.userKey, day, s.day.contentHash, analyst.model) }));
  const work = keyed.filter((w) => !done.has(w.key));
  const dayReport: DayReport = { ...report, day, cached: keyed.length - work.length, analysed: 0, deadLettered: 0, left: 0 };
  result.days.push(dayReport);

  if (options.dryRun) {
    for (const w of work) {
      const estimate = analyst.estimate(wireContext(w.day, analyst.remote ? run.redact : null));
      result.requests += analyst.remote ? 1 : 0;
      result.inputTokens += estimate.inputTokens;
      result.outputTokens += estimate.outputTokens;
    }
    result.costUsd = costOf(result, run.price);
    dayReport.left = work.length;
    return;
  }

  let writes: Promise<void> = Promise.resolve();
  const write = (job: () => Promise<void>) => (writes = writes.then(job));
  const limit = pLimit(analyst.remote ? (options.concurrency ?? 4) : 1);
  let finished = 0;
  const maxInvalid = options.maxInvalidAttempts ?? 3;
  await Promise.all(
    work.map((w) =>
      limit(async () => {
        const outcome = await analyseOne(run, w, maxInvalid);
        finished += 1;
        options.onProgress?.(finished, work.length);
        if (outcome.kind === "left") dayReport.left += 1;
        else if (outcome.kind === "dead") {
          dayReport.deadLettered += 1;
          await write(() => writeDeadLetter(connection, run, w, day, outcome.reason, outcome.attempts));
        } else {
          dayReport.analysed += 1;
          await write(() => writeInsight(connection, run, w, day, outcome));
        }
      }),
    ),
  );
  await writes;
  await connection.run(
    `delete from ${quoteQualified(...run.tables.insightDeadLetters)} as d
     where exists (select 1 from ${insights} as i where i.analysis_key = d.analysis_key)`,
  );
  await connection.run(
    `insert or replace into ${quoteQualified(...run.tables.analysisRuns)}
     values (?, ?::date, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::json, ?, ?, ?, ?, ?, ?, ?, now())`,
    [
      run.runId,
      day,
      analyst.name,
      analyst.model,
      result.status,
      report.active,
      report.consenting,
      report.cap,
      report.selected,
      report.sampled,
      report.anomalies,
      JSON.stringify(report.strata),
      dayReport.cached,
      dayReport.analysed,
      dayReport.deadLettered,
      result.requests,
      result.inputTokens,
      result.outputTokens,
      result.note ? `${report.note}; ${result.note}` : report.note,
    ],
  );
}

type Outcome =
  | { kind: "done"; analysis: Analysis; inputTokens: number; outputTokens: number; latencyMs: number }
  | { kind: "dead"; reason: string; attempts: number }
  | { kind: "left" };

/** One user-day: sent (with retries) until an answer passes validation, or given up on. */
async function analyseOne(run: Run, w: Selected & { key: string }, maxInvalid: number): Promise<Outcome> {
  const { analyst, circuit, result } = run;
  const context = wireContext(w.day, analyst.remote ? run.redact : null);
  const ids = new Set(w.day.messages.map((m) => m.id));
  let requests = 0;
  let lastReason = "";
  for (let answer = 1; answer <= maxInvalid; answer++) {
    if (circuit.down || result.status !== "complete") return leave(run);
    const estimate = analyst.estimate(context);
    const claimed = run.guard.budget ? budgetSpend(run.guard.budget, estimate, run.price) : 0;
    if (!run.guard.claim(claimed)) {
      result.status = "budget_reached";
      return { kind: "left" };
    }
    const started = performance.now();
    let reply;
    try {
      reply = await sendRequest((signal) => analyst.analyse(context, signal), {
        limiter: run.limiter,
        retry: run.retry,
        circuit,
        summary: result,
        estimatedTokens: estimate.inputTokens + estimate.outputTokens,
        onAttempt: () => (requests += 1),
      });
    } catch (error) {
      run.guard.settle(claimed, 0);
      circuit.gaveUp(error);
      if (circuit.down) return leave(run);
      return { kind: "dead", reason: `${describeFailure(error)} (after ${requests} requests)`, attempts: requests };
    }
    const used = reply.usage;
    run.limiter?.settle(estimate.inputTokens + estimate.outputTokens, used.inputTokens + used.outputTokens);
    run.guard.settle(claimed, run.guard.budget ? budgetSpend(run.guard.budget, used, run.price) : 0);
    result.inputTokens += used.inputTokens;
    result.outputTokens += used.outputTokens;
    result.costUsd = costOf(result, run.price);
    const checked = validateAnalysis(reply.body, ids);
    if ("analysis" in checked) {
      const keys = new Map(w.day.messages.map((m) => [m.id, m.messageKey]));
      return {
        kind: "done",
        analysis: withMessageKeys(checked.analysis, keys, run.nameWords),
        inputTokens: used.inputTokens,
        outputTokens: used.outputTokens,
        latencyMs: Math.round(performance.now() - started),
      };
    }
    result.invalidResponses += 1;
    lastReason = checked.reason;
  }
  return { kind: "dead", reason: `${lastReason} (after ${maxInvalid} answers)`, attempts: requests };
}

/** Left for the next run: the provider is down or the budget reached (the status says which). */
function leave(run: Run): Outcome {
  if (run.circuit.down && run.result.status === "complete") {
    run.result.status = "provider_unavailable";
    run.result.note = run.circuit.down;
  }
  return { kind: "left" };
}

async function writeInsight(
  connection: DuckDBConnection,
  run: Run,
  w: Selected & { key: string },
  day: string,
  outcome: Extract<Outcome, { kind: "done" }>,
): Promise<void> {
  await connection.run(
    `insert or replace into ${quoteQualified(...run.tables.insights)}
     values (?, ?::date, ?, ?, ?, ?, ?, ?, ?, ?::json, ?, ?, ?, ?, ?, ?, now())`,
    [
      w.day.userKey,
      day,
      w.key,
      w.day.contentHash,
      run.analyst.name,
      run.analyst.model,
      ANALYSIS_PROMPT_VERSION,
      w.selection,
      w.reason,
      JSON.stringify(outcome.analysis),
      outcome.analysis.sentiment.label,
      outcome.analysis.churn_risk.level,
      outcome.inputTokens,
      outcome.outputTokens,
      outcome.latencyMs,
      run.runId,
    ],
  );
}

async function writeDeadLetter(
  connection: DuckDBConnection,
  run: Run,
  w: Selected & { key: string },
  day: string,
  reason: string,
  attempts: number,
): Promise<void> {
  await connection.run(
    `insert into ${quoteQualified(...run.tables.insightDeadLetters)} values (?, ?::date, ?, ?, ?, ?, ?, now(), now(), ?)
     on conflict (user_key, analysis_date, analysis_key) do update set
       reason = excluded.reason, attempts = attempts + excluded.attempts, last_failed_at = excluded.last_failed_at, run_id = excluded.run_id`,
    [w.day.userKey, day, w.key, run.analyst.name, run.analyst.model, reason, attempts, run.runId],
  );
}

/** `count` days ending at `last`, oldest first, as YYYY-MM-DD. */
function daysEnding(last: string, count: number): string[] {
  const end = Date.parse(`${last}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => new Date(end - (count - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}
