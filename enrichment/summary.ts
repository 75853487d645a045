import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteQualified } from "../runner/quote.ts";
import type { Price } from "./cost.ts";
import type { Provider } from "./providers/provider.ts";

export type TaskStatus = "complete" | "budget_reached" | "provider_unavailable" | "dry_run";

/** What a run's calls to its provider came to: what `enrich` and `analyze users` both report. */
export interface CallCounts {
  requests: number;
  retries: number;
  invalidResponses: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** Counts before the first call. */
export function noCalls(): CallCounts {
  return { requests: 0, retries: 0, invalidResponses: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
}

/** What one task (annotate or embed) of an enrich run did: a row of enrichment.enrichment_runs. */
export interface TaskSummary extends CallCounts {
  runId: string;
  task: "annotate" | "embed";
  provider: string;
  model: string;
  promptVersion: string | null;
  status: TaskStatus;
  /** Why the status is not complete, in words. */
  note?: string;
  startedAt: Date;
  finishedAt: Date;
  messagesPending: number;
  messagesReused: number;
  messagesDone: number;
  messagesDeadLettered: number;
  messagesLeft: number;
  /** Distinct texts among the pending messages that needed a request. */
  texts: number;
  price: Price;
  dryRun: boolean;
}

/** What the progress bar shows. */
export interface Progress {
  task: "annotate" | "embed";
  /** Messages finished (annotated or dead-lettered) and to do. */
  done: number;
  total: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  elapsedMs: number;
}

export function emptySummary(
  runId: string,
  task: TaskSummary["task"],
  provider: Provider,
  price: Price,
  promptVersion: string | null,
  dryRun = false,
): TaskSummary {
  return {
    runId,
    task,
    provider: provider.name,
    model: task === "embed" ? provider.embeddingModel : provider.model,
    promptVersion,
    status: dryRun ? "dry_run" : "complete",
    startedAt: new Date(),
    finishedAt: new Date(),
    messagesPending: 0,
    messagesReused: 0,
    messagesDone: 0,
    messagesDeadLettered: 0,
    messagesLeft: 0,
    texts: 0,
    ...noCalls(),
    price,
    dryRun,
  };
}

/** Appends a task's summary to enrichment.enrichment_runs. */
export async function recordSummary(connection: DuckDBConnection, table: [string, string], s: TaskSummary): Promise<void> {
  await connection.run(
    `insert into ${quoteQualified(...table)} values (?, ?, ?, ?, ?, ?, ?::timestamptz, ?::timestamptz, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      s.runId,
      s.task,
      s.provider,
      s.model,
      s.promptVersion,
      s.status,
      s.startedAt.toISOString(),
      s.finishedAt.toISOString(),
      s.messagesPending,
      s.messagesReused,
      s.messagesDone,
      s.messagesDeadLettered,
      s.messagesLeft,
      s.requests,
      s.retries,
      s.invalidResponses,
      s.inputTokens,
      s.outputTokens,
      s.costUsd,
      s.price.input,
      s.price.output,
      s.price.known,
      s.dryRun,
    ],
  );
}

/** One line per task for the terminal. */
export function describeSummary(s: TaskSummary): string {
  const money = s.price.known ? `$${s.costUsd.toFixed(4)}` : "cost unknown (pass --input-price/--output-price)";
  const what = s.task === "annotate" ? "annotated" : "embedded";
  const parts = [
    `${s.task} [${s.provider} ${s.model}]`,
    s.dryRun
      ? `${s.messagesPending} messages pending, ${s.messagesReused} reusable, ${s.texts} distinct texts → ~${s.requests} requests`
      : `${s.messagesDone} ${what}, ${s.messagesReused} reused, ${s.messagesDeadLettered} dead-lettered, ${s.messagesLeft} left of ${s.messagesPending} pending`,
    `${s.requests} requests${s.retries ? ` (${s.retries} retries)` : ""}${s.invalidResponses ? `, ${s.invalidResponses} invalid answers` : ""}`,
    `${s.dryRun ? "~" : ""}${s.inputTokens + s.outputTokens} tokens (${s.inputTokens} in, ${s.outputTokens} out), ${s.dryRun ? "~" : ""}${money}`,
  ];
  return `${parts.join("; ")}${s.status === "complete" || s.status === "dry_run" ? "" : ` — ${s.status.replace("_", " ")}`}`;
}
