import type { DuckDBConnection } from "@duckdb/node-api";
import pLimit from "p-limit";
import { quoteQualified } from "../runner/quote.ts";
import type { Circuit } from "./circuit.ts";
import { budgetSpend, costOf, type BudgetGuard, type Price } from "./cost.ts";
import { normalizedTextSql } from "./output.ts";
import type { Provider } from "./providers/provider.ts";
import { estimateTokens } from "./providers/provider.ts";
import type { RateLimiter } from "./rateLimiter.ts";
import type { Redactor } from "./redact.ts";
import { sendRequest, type RetryPolicy } from "./retry.ts";
import { emptySummary, type Progress, type TaskSummary } from "./summary.ts";
import type { EnrichmentTables } from "./tables.ts";

export interface EmbedOptions {
  runId: string;
  provider: Provider;
  tables: EnrichmentTables;
  redact: Redactor;
  limiter: RateLimiter | null;
  retry: RetryPolicy;
  /** Decides when the provider is down; shared with the annotation task. */
  circuit: Circuit;
  concurrency: number;
  price: Price;
  guard: BudgetGuard;
  dryRun?: boolean;
  /** Only these messages (default: every message): the days they were sent, and whose they are (null: anyone's). */
  scope?: EmbedScope;
  onProgress?: (progress: Progress) => void;
}

export interface EmbedScope {
  from: string;
  to: string;
  userKeys: string[] | null;
}

const PENDING = "duckform_embed_pending";
const BATCH = { local: 1000, remote: 64 };

/** A message's embedding key in SQL: its normalized text and the embedding model (bound as embeddingModelKey). */
export function embeddingKeySql(text: string): string {
  return `sha256(concat_ws(chr(31), ${normalizedTextSql(text)}, ?))`;
}

export function embeddingModelKey(provider: Provider): string {
  return `${provider.name}:${provider.embeddingModel}`;
}

/**
 * Embeds the messages that have no embedding for the current embedding model (key: normalized
 * text + model), one request per batch of distinct texts, through the same limiter, retries
 * and budget as annotation. A batch that keeps failing is left for the next run.
 */
export async function embedMessages(connection: DuckDBConnection, options: EmbedOptions): Promise<TaskSummary> {
  const { provider, circuit } = options;
  const summary = emptySummary(options.runId, "embed", provider, options.price, null, options.dryRun);
  const embeddings = quoteQualified(...options.tables.embeddings);
  const { scope } = options;
  const scopeSql = !scope
    ? ""
    : `and sent_date between ?::date and ?::date` +
      (scope.userKeys ? ` and user_key in (select unnest(from_json(?::json, '["VARCHAR"]')))` : "");
  const scopeParams = !scope ? [] : [scope.from, scope.to, ...(scope.userKeys ? [JSON.stringify(scope.userKeys)] : [])];
  await connection.run(
    `create or replace temp table ${PENDING} as
     with messages as (
       select message_key, text, ${embeddingKeySql("text")} as embedding_key
       from ${quoteQualified(...options.tables.messages)}
       where message_type = 'regular' and nullif(trim(text), '') is not null ${scopeSql}
     )
     select messages.* from messages
     anti join ${embeddings} as done on done.message_key = messages.message_key and done.embedding_key = messages.embedding_key`,
    [embeddingModelKey(provider), ...scopeParams],
  );
  try {
    const reader = await connection.runAndReadAll(
      `select p.embedding_key, arg_min(p.text, p.message_key) as text, list(p.message_key order by p.message_key) as message_keys,
              bool_or(e.embedding_key is not null) as reusable
       from ${PENDING} as p
       left join (select distinct embedding_key from ${embeddings}) as e on e.embedding_key = p.embedding_key
       group by p.embedding_key
       order by p.embedding_key`,
    );
    const work = reader.getRowObjectsJS().map((r) => ({
      key: String(r.embedding_key),
      text: String(r.text),
      messageKeys: (r.message_keys as string[]).map(String),
      reusable: r.reusable === true,
    }));
    summary.messagesPending = work.reduce((n, w) => n + w.messageKeys.length, 0);
    const reuse = work.filter((w) => w.reusable);
    summary.messagesReused = reuse.reduce((n, w) => n + w.messageKeys.length, 0);
    const toSend = work.filter((w) => !w.reusable);
    summary.texts = toSend.length;
    if (!options.dryRun && reuse.length > 0) {
      await connection.run(
        `insert into ${embeddings}
         select p.message_key, e.embedding_key, e.provider, e.model, e.dimensions, e.embedding, ?, now()
         from ${PENDING} as p
         join (select * from ${embeddings} qualify row_number() over (partition by embedding_key order by message_key) = 1) as e using (embedding_key)`,
        [options.runId],
      );
    }
    const size = provider.remote ? BATCH.remote : BATCH.local;
    const batches: (typeof toSend)[] = [];
    for (let i = 0; i < toSend.length; i += size) batches.push(toSend.slice(i, i + size));
    if (options.dryRun) {
      summary.requests = batches.length;
      summary.inputTokens = provider.remote ? toSend.reduce((n, w) => n + estimateTokens(w.text), 0) : 0;
      summary.costUsd = costOf(summary, options.price);
      summary.messagesLeft = summary.messagesPending - summary.messagesReused;
      summary.finishedAt = new Date();
      return summary;
    }

    const total = summary.messagesPending - summary.messagesReused;
    const started = performance.now();
    let writes: Promise<void> = Promise.resolve();
    const limit = pLimit(options.concurrency);
    await Promise.all(
      batches.map((batch) =>
        limit(async () => {
          const leave = () => {
            if (circuit.down && summary.status === "complete") {
              summary.status = "provider_unavailable";
              summary.note = circuit.down;
            }
            summary.messagesLeft += batch.reduce((n, w) => n + w.messageKeys.length, 0);
          };
          if (summary.status !== "complete" || circuit.down) return leave();
          const texts = batch.map((w) => (provider.remote ? options.redact(w.text).text : w.text));
          const estimate = { inputTokens: texts.reduce((n, t) => n + estimateTokens(t), 0), outputTokens: 0 };
          const claimed = options.guard.budget ? budgetSpend(options.guard.budget, estimate, options.price) : 0;
          if (!options.guard.claim(claimed)) {
            summary.status = "budget_reached";
            return leave();
          }
          let reply;
          try {
            reply = await sendRequest((signal) => provider.embed(texts, signal), {
              limiter: options.limiter,
              retry: options.retry,
              circuit,
              summary,
              estimatedTokens: estimate.inputTokens,
            });
          } catch (error) {
            options.guard.settle(claimed, 0);
            circuit.gaveUp(error);
            return leave();
          }
          options.guard.settle(claimed, options.guard.budget ? budgetSpend(options.guard.budget, reply.usage, options.price) : 0);
          summary.inputTokens += reply.usage.inputTokens;
          summary.costUsd = costOf(summary, options.price);
          const rows = batch.flatMap((w, i) =>
            w.messageKeys.map((m) => ({ message_key: m, embedding_key: w.key, embedding: reply.vectors[i] ?? [] })),
          );
          const bad = rows.find((r) => r.embedding.length === 0);
          if (bad || reply.vectors.length !== batch.length) {
            summary.invalidResponses += batch.length;
            return leave();
          }
          writes = writes.then(() =>
            connection
              .run(
                `insert into ${embeddings}
               select r.message_key, r.embedding_key, ?, ?, len(r.embedding), r.embedding, ?, now()
               from (select unnest(from_json(?::json, '[{"message_key":"VARCHAR","embedding_key":"VARCHAR","embedding":["FLOAT"]}]'), recursive := true)) as r`,
                [provider.name, provider.embeddingModel, options.runId, JSON.stringify(rows)],
              )
              .then(() => undefined),
          );
          await writes;
          summary.messagesDone += rows.length;
          options.onProgress?.({
            task: "embed",
            done: summary.messagesDone,
            total,
            inputTokens: summary.inputTokens,
            outputTokens: 0,
            costUsd: summary.costUsd,
            elapsedMs: performance.now() - started,
          });
        }),
      ),
    );
    await writes;
    summary.finishedAt = new Date();
    return summary;
  } finally {
    await connection.run(`drop table if exists ${PENDING}`);
  }
}
