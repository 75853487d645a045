import type { DuckDBConnection } from "@duckdb/node-api";
import pLimit from "p-limit";
import { quoteQualified } from "../runner/quote.ts";
import type { Circuit } from "./circuit.ts";
import { budgetSpend, costOf, type BudgetGuard, type Price } from "./cost.ts";
import { annotationKeySql, outputSchemaHash, PROMPT_VERSION, type Annotation, type Entity } from "./output.ts";
import type { BatchItem, Provider, Usage } from "./providers/provider.ts";
import type { RateLimiter } from "./rateLimiter.ts";
import { hasPlaceholder, restorePlaceholders, type Redacted, type Redactor } from "./redact.ts";
import { describeFailure, isRetryable, sendRequest, type RetryPolicy } from "./retry.ts";
import { distinctEntities, ruleEntities } from "./ruleEntities.ts";
import type { EnrichmentTables } from "./tables.ts";
import { emptySummary, type Progress, type TaskSummary } from "./summary.ts";
import { validateReply } from "./validate.ts";

export interface AnnotateOptions {
  runId: string;
  provider: Provider;
  tables: EnrichmentTables;
  categories: string[];
  /** Applied to every text before it reaches a remote provider. */
  redact: Redactor;
  limiter: RateLimiter | null;
  retry: RetryPolicy;
  /** Decides when the provider is down; shared with the embedding task. */
  circuit: Circuit;
  concurrency: number;
  /** Answers that fail validation are retried (in a later batch) this many times in all, then dead-lettered. */
  maxInvalidAttempts: number;
  price: Price;
  guard: BudgetGuard;
  dryRun?: boolean;
  /** Distinct texts to send at most, this run. */
  limit?: number;
  onProgress?: (progress: Progress) => void;
}

/** One distinct text to annotate, and every message that has it. */
interface Work {
  annotationKey: string;
  text: string;
  messageKeys: string[];
  redacted: Redacted;
  requests: number;
  invalidAttempts: number;
}

const PENDING = "duckform_enrich_pending";

/**
 * Annotates the messages that have no annotation for the current key (normalized text, prompt
 * version, model, output schema): first by copying the annotation of an identical text already
 * annotated, then by asking the provider for each distinct remaining text, in batches, with
 * rate limits, retries and validation. Every text ends the run annotated, dead-lettered with a
 * reason, or (budget reached, provider down) left for the next run — never silently dropped.
 */
export async function annotateMessages(connection: DuckDBConnection, options: AnnotateOptions): Promise<TaskSummary> {
  const { provider, tables } = options;
  const summary = emptySummary(options.runId, "annotate", provider, options.price, PROMPT_VERSION, options.dryRun);
  const annotations = quoteQualified(...tables.annotations);
  const deadLetters = quoteQualified(...tables.deadLetters);
  const keyParameters = [PROMPT_VERSION, `${provider.name}:${provider.model}`, outputSchemaHash(options.categories)];

  await connection.run(
    `create or replace temp table ${PENDING} as
     with messages as (
       select message_key, sent_at, text, ${annotationKeySql("text")} as annotation_key
       from ${quoteQualified(...tables.messages)}
       where message_type = 'regular' and nullif(trim(text), '') is not null
     )
     select messages.* from messages
     anti join ${annotations} as done
       on done.message_key = messages.message_key and done.annotation_key = messages.annotation_key`,
    keyParameters,
  );
  try {
    summary.messagesPending = await count(connection, `select count(*) from ${PENDING}`);

    // An identical text annotated for the same key before (another message) costs nothing.
    const reusable = `select * from ${annotations} qualify row_number() over (partition by annotation_key order by annotated_at, message_key) = 1`;
    if (options.dryRun) {
      summary.messagesReused = await count(connection, `select count(*) from ${PENDING} join (${reusable}) using (annotation_key)`);
    } else {
      summary.messagesReused = await count(
        connection,
        `insert into ${annotations}
         select p.message_key, a.annotation_key, a.provider, a.model, a.prompt_version, a.category, a.topics, a.entities, a.output,
                0, 0, null, ?, now()
         from ${PENDING} as p join (${reusable}) as a using (annotation_key)`,
        [options.runId],
      );
    }
    const work = await pendingWork(connection, annotations, options);
    const texts = work.length;
    summary.messagesLeft = summary.messagesPending - summary.messagesReused - work.reduce((n, w) => n + w.messageKeys.length, 0);

    if (options.dryRun) {
      estimateOnly(work, options, summary);
    } else {
      await send(connection, work, options, summary, annotations, deadLetters);
      await connection.run(
        `delete from ${deadLetters} as d
         where exists (select 1 from ${annotations} as a where a.message_key = d.message_key and a.annotation_key = d.annotation_key)`,
      );
    }
    summary.texts = texts;
    summary.finishedAt = new Date();
    return summary;
  } finally {
    await connection.run(`drop table if exists ${PENDING}`);
  }
}

async function pendingWork(connection: DuckDBConnection, annotations: string, options: AnnotateOptions): Promise<Work[]> {
  const reader = await connection.runAndReadAll(
    `select annotation_key, arg_min(text, message_key) as text, list(message_key order by message_key) as message_keys
     from ${PENDING}
     where annotation_key not in (select annotation_key from ${annotations})
     group by annotation_key
     order by min(sent_at), annotation_key
     limit ?`,
    // No limit is a limit larger than any table.
    [options.limit ?? Number.MAX_SAFE_INTEGER],
  );
  return reader.getRowObjectsJS().map((r) => {
    const text = String(r.text);
    return {
      annotationKey: String(r.annotation_key),
      text,
      messageKeys: (r.message_keys as string[]).map(String),
      // Texts stay in the process for the local provider, so only remote ones are redacted.
      redacted: options.provider.remote ? options.redact(text) : { text, placeholders: new Map() },
      requests: 0,
      invalidAttempts: 0,
    };
  });
}

function estimateOnly(work: Work[], options: AnnotateOptions, summary: TaskSummary): void {
  for (const batch of chunk(work, options.provider.batchSize)) {
    const estimate = options.provider.estimate(batchItems(batch));
    summary.requests += 1;
    summary.inputTokens += estimate.inputTokens;
    summary.outputTokens += estimate.outputTokens;
  }
  summary.costUsd = costOf(summary, options.price);
  summary.messagesLeft += work.reduce((n, w) => n + w.messageKeys.length, 0);
}

async function send(
  connection: DuckDBConnection,
  work: Work[],
  options: AnnotateOptions,
  summary: TaskSummary,
  annotations: string,
  deadLetters: string,
): Promise<void> {
  const { provider, circuit } = options;
  const limit = pLimit(options.concurrency);
  const total = work.reduce((n, w) => n + w.messageKeys.length, 0);
  const started = performance.now();
  let done = 0;
  let writes: Promise<void> = Promise.resolve();
  // One connection writes, in order; batches finish in any order.
  const write = (job: () => Promise<void>) => (writes = writes.then(job));
  const progress = () =>
    options.onProgress?.({
      task: "annotate",
      done,
      total,
      inputTokens: summary.inputTokens,
      outputTokens: summary.outputTokens,
      costUsd: summary.costUsd,
      elapsedMs: performance.now() - started,
    });
  const finish = (items: Work[]) => {
    done += items.reduce((n, w) => n + w.messageKeys.length, 0);
    progress();
  };
  const deadLetter = (items: { work: Work; reason: string }[]) => {
    summary.messagesDeadLettered += items.reduce((n, i) => n + i.work.messageKeys.length, 0);
    finish(items.map((i) => i.work));
    return write(() => writeDeadLetters(connection, deadLetters, options, items));
  };
  const leave = (items: Work[]) => {
    if (circuit.down && summary.status === "complete") {
      summary.status = "provider_unavailable";
      summary.note = circuit.down;
    }
    summary.messagesLeft += items.reduce((n, w) => n + w.messageKeys.length, 0);
  };

  const runBatch = async (batch: Work[], again: Work[]): Promise<void> => {
    if (summary.status !== "complete" || circuit.down) return leave(batch);
    const items = batchItems(batch);
    const estimate = provider.estimate(items);
    const claimed = options.guard.budget ? budgetSpend(options.guard.budget, estimate, options.price) : 0;
    if (!options.guard.claim(claimed)) {
      summary.status = "budget_reached";
      return leave(batch);
    }
    const estimatedTokens = estimate.inputTokens + estimate.outputTokens;
    const requestStarted = performance.now();
    let attempts = 0;
    let reply;
    try {
      reply = await sendRequest((signal) => provider.annotate(items, signal), {
        limiter: options.limiter,
        retry: options.retry,
        circuit,
        summary,
        estimatedTokens,
        onAttempt: (attempt) => {
          attempts = attempt;
          for (const w of batch) w.requests += 1;
        },
      });
    } catch (error) {
      options.guard.settle(claimed, 0);
      circuit.gaveUp(error);
      if (circuit.down) return leave(batch);
      const reason = `${describeFailure(error)} (${attemptsSaid(error, attempts)})`;
      return deadLetter(batch.map((work) => ({ work, reason })));
    }
    const latencyMs = Math.round(performance.now() - requestStarted);
    options.limiter?.settle(estimatedTokens, reply.usage.inputTokens + reply.usage.outputTokens);
    options.guard.settle(claimed, options.guard.budget ? budgetSpend(options.guard.budget, reply.usage, options.price) : 0);
    summary.inputTokens += reply.usage.inputTokens;
    summary.outputTokens += reply.usage.outputTokens;
    summary.costUsd = costOf(summary, options.price);

    const { valid, invalid } = validateReply(
      reply.body,
      items.map((i) => i.id),
      options.categories,
    );
    const shares = tokenShares(batch, reply.usage);
    const rows: AnnotationRow[] = [];
    const annotated: Work[] = [];
    const failed: { work: Work; reason: string }[] = [];
    batch.forEach((work, i) => {
      const id = items[i]!.id;
      const annotation = valid.get(id);
      if (annotation) {
        annotated.push(work);
        rows.push(...annotationRows(work, annotation, shares[i]!, latencyMs, provider.remote));
        return;
      }
      work.invalidAttempts += 1;
      summary.invalidResponses += 1;
      const reason = invalid.get(id)!;
      if (work.invalidAttempts >= options.maxInvalidAttempts)
        failed.push({ work, reason: `${reason} (after ${work.invalidAttempts} answers)` });
      else again.push(work);
    });
    summary.messagesDone += annotated.reduce((n, w) => n + w.messageKeys.length, 0);
    finish(annotated);
    if (rows.length > 0) await write(() => writeAnnotations(connection, annotations, options, rows));
    if (failed.length > 0) await deadLetter(failed);
  };

  // Rounds: texts whose answer failed validation go again, in new batches, after the others.
  let queue = work;
  while (queue.length > 0) {
    const again: Work[] = [];
    await Promise.all(chunk(queue, provider.batchSize).map((batch) => limit(() => runBatch(batch, again))));
    // Completion order is timing; the next round's batches should not be.
    queue = again.sort((a, b) => (a.annotationKey < b.annotationKey ? -1 : 1));
  }
  await writes;
  progress();
}

/** How many attempts a batch made, and why no more. */
function attemptsSaid(error: unknown, attempts: number): string {
  if (isRetryable(error)) return `gave up after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
  return attempts === 1 ? "1 attempt, not retryable" : `${attempts} attempts, the last not retryable`;
}

interface AnnotationRow {
  message_key: string;
  annotation_key: string;
  category: string;
  topics: string[];
  entities: Entity[];
  output: Omit<Annotation, "id">;
  input_tokens: number;
  output_tokens: number;
  latency_ms: number;
}

/** The rows for every message of a text: placeholders restored, rule-found identifiers merged in. */
function annotationRows(work: Work, annotation: Annotation, share: Usage, latencyMs: number, remote: boolean): AnnotationRow[] {
  const { id: _id, ...output } = annotation;
  const restore = (s: string) => restorePlaceholders(s, work.redacted.placeholders);
  // A placeholder the model made up (or mangled) cannot be restored: that topic or entity is dropped.
  const known = (s: string) => !hasPlaceholder(s);
  const topics = [...new Set(output.topics.map((t) => restore(t).trim().toLowerCase()))].filter(known);
  let entities = output.entities.map((e) => ({ name: restore(e.name), type: e.type })).filter((e) => known(e.name));
  // A model saw placeholders, not the identifiers: the rules add the exact ones from the original text.
  if (remote) entities = distinctEntities([...entities, ...ruleEntities(work.text).map(({ name, type }) => ({ name, type }))]);
  return work.messageKeys.map((messageKey, i) => ({
    message_key: messageKey,
    annotation_key: work.annotationKey,
    category: output.category,
    topics,
    entities,
    output,
    // The request's tokens are counted once, on the first message with the text.
    input_tokens: i === 0 ? share.inputTokens : 0,
    output_tokens: i === 0 ? share.outputTokens : 0,
    latency_ms: latencyMs,
  }));
}

const ANNOTATION_JSON_TYPE = JSON.stringify([
  {
    message_key: "VARCHAR",
    annotation_key: "VARCHAR",
    category: "VARCHAR",
    topics: ["VARCHAR"],
    entities: [{ name: "VARCHAR", type: "VARCHAR" }],
    output: "JSON",
    input_tokens: "INTEGER",
    output_tokens: "INTEGER",
    latency_ms: "INTEGER",
  },
]);

async function writeAnnotations(
  connection: DuckDBConnection,
  table: string,
  options: AnnotateOptions,
  rows: AnnotationRow[],
): Promise<void> {
  await connection.run(
    `insert into ${table}
     select r.message_key, r.annotation_key, ?, ?, ?, r.category, r.topics, r.entities, r.output,
            r.input_tokens, r.output_tokens, r.latency_ms, ?, now()
     from (select unnest(from_json(?::json, ?), recursive := true)) as r`,
    [options.provider.name, options.provider.model, PROMPT_VERSION, options.runId, JSON.stringify(rows), ANNOTATION_JSON_TYPE],
  );
}

async function writeDeadLetters(
  connection: DuckDBConnection,
  table: string,
  options: AnnotateOptions,
  items: { work: Work; reason: string }[],
): Promise<void> {
  const rows = items.flatMap(({ work, reason }) =>
    work.messageKeys.map((m) => ({ message_key: m, annotation_key: work.annotationKey, reason, attempts: work.requests })),
  );
  await connection.run(
    `insert into ${table}
     select r.message_key, r.annotation_key, ?, ?, ?, r.reason, r.attempts, now(), now(), ?
     from (select unnest(from_json(?::json, '[{"message_key":"VARCHAR","annotation_key":"VARCHAR","reason":"VARCHAR","attempts":"INTEGER"}]'), recursive := true)) as r
     on conflict (message_key, annotation_key) do update set
       reason = excluded.reason, attempts = attempts + excluded.attempts, last_failed_at = excluded.last_failed_at, run_id = excluded.run_id`,
    [options.provider.name, options.provider.model, PROMPT_VERSION, options.runId, JSON.stringify(rows)],
  );
}

/** Batch-local ids: what the provider sees instead of any message or user id. */
function batchItems(batch: Work[]): BatchItem[] {
  return batch.map((w, i) => ({ id: `m${i + 1}`, text: w.redacted.text }));
}

/** A request's tokens split over its texts by length, so per-message tokens add up to the request's. */
function tokenShares(batch: Work[], usage: Usage): Usage[] {
  const lengths = batch.map((w) => w.redacted.text.length + 1);
  const total = lengths.reduce((a, b) => a + b, 0);
  const split = (tokens: number) => {
    const parts = lengths.map((l) => Math.floor((tokens * l) / total));
    parts[0]! += tokens - parts.reduce((a, b) => a + b, 0);
    return parts;
  };
  const input = split(usage.inputTokens);
  const output = split(usage.outputTokens);
  return batch.map((_, i) => ({ inputTokens: input[i]!, outputTokens: output[i]! }));
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function count(connection: DuckDBConnection, sql: string, parameters: string[] = []): Promise<number> {
  const reader = await connection.runAndReadAll(sql, parameters);
  const first = reader.getRows()[0];
  // An insert reports the rows it wrote as its one value.
  return Number(first?.[0] ?? reader.rowsChanged ?? 0);
}
