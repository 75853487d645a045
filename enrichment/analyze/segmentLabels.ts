import { createHash } from "node:crypto";
import type { DuckDBConnection } from "@duckdb/node-api";
import { z } from "zod";
import { quoteQualified } from "../../runner/quote.ts";
import type { Circuit } from "../circuit.ts";
import { budgetSpend, costOf, type BudgetGuard, type Price } from "../cost.ts";
import type { ProviderChoice } from "../providers/choice.ts";
import { DEFAULT_TIMEOUT_MS, openAIClient, structuredCompletion } from "../providers/openai.ts";
import { estimateTokens } from "../providers/provider.ts";
import type { RateLimiter } from "../rateLimiter.ts";
import type { Redactor } from "../redact.ts";
import { describeFailure, sendRequest, type RetryPolicy } from "../retry.ts";
import type { CallCounts } from "../summary.ts";
import { wireJsonSchema } from "./insight.ts";

/** How segmentation reaches the provider: the analyze run's own limiter, retries, circuit and budget, and where its calls are counted. */
export interface ProviderCalls {
  runId: string;
  choice: ProviderChoice;
  redact: Redactor;
  /** Words of known people's names, lowercase: never part of a label. */
  nameWords: ReadonlySet<string>;
  limiter: RateLimiter | null;
  retry: RetryPolicy;
  circuit: Circuit;
  guard: BudgetGuard;
  /** The chat model's price (labels); embeddings are priced apart. */
  price: Price;
  concurrency: number;
  dryRun: boolean;
  /** The run's totals: segmentation's requests and tokens are added here. */
  counts: CallCounts;
}

/** Bumped with any change to the instructions or the aggregates sent: part of every label key. */
export const SEGMENT_LABEL_PROMPT_VERSION = "l1";

/** What the provider sees of one segment: its size and its members' averages, never a person. */
export interface SegmentAggregate {
  id: number;
  people: number;
  /** The rules' label: a hint, and what stands if the provider's answer does not. */
  rule_label: string;
  /** Members' average of each behaviour feature over the window. */
  averages: Record<string, number>;
  /** Features the segment is clearly above (below) the average of everyone in, furthest first. */
  above_average: string[];
  below_average: string[];
}

export interface LabelRequest {
  window_days: number;
  everyone: { people: number; averages: Record<string, number> };
  segments: SegmentAggregate[];
}

export interface SegmentName {
  label: string;
  description: string;
}

export interface Labelling {
  names: Map<number, SegmentName>;
  /** provider: asked this run; cache: an earlier answer for the same aggregates; rules: no provider, or its answer failed. */
  source: "provider" | "cache" | "rules";
  note?: string;
}

const labelsSchema = z.strictObject({
  segments: z
    .array(
      z.strictObject({
        id: z.number().int(),
        label: z.string().trim().toLowerCase().min(2).max(40),
        description: z.string().trim().min(5).max(240),
      }),
    )
    .min(1),
});

const OUTPUT_TOKENS_PER_SEGMENT = 50;

/**
 * Labels for a segmentation: from the provider when one is configured (the aggregates only, one
 * request for all segments, cached by their hash × prompt version × model), else, or when the
 * provider fails or answers out of schema, the rules' names.
 */
export async function labelSegments(
  connection: DuckDBConnection,
  table: [string, string],
  calls: ProviderCalls,
  request: LabelRequest,
  ruleNames: Map<number, SegmentName>,
): Promise<Labelling> {
  const rules: Labelling = { names: ruleNames, source: "rules" };
  const { choice } = calls;
  if (choice.name === "local") return rules;
  const user = JSON.stringify(request);
  const key = createHash("sha256").update([SEGMENT_LABEL_PROMPT_VERSION, choice.model, user].join("\u001f")).digest("hex");
  const cached = await connection.runAndReadAll(`select labels::varchar as labels from ${quoteQualified(...table)} where label_key = ?`, [
    key,
  ]);
  const hit = cached.getRowObjectsJS()[0];
  if (hit) {
    const checked = validateLabels(JSON.parse(String(hit.labels)), request, calls.nameWords);
    if ("names" in checked) return { names: checked.names, source: "cache" };
  }
  const instructions = labelSystemPrompt();
  const schema = wireJsonSchema(labelsSchema);
  const estimate = {
    inputTokens: estimateTokens(instructions) + estimateTokens(JSON.stringify(schema)) + estimateTokens(user),
    outputTokens: OUTPUT_TOKENS_PER_SEGMENT * request.segments.length,
  };
  if (calls.dryRun) {
    calls.counts.requests += 1;
    calls.counts.inputTokens += estimate.inputTokens;
    calls.counts.outputTokens += estimate.outputTokens;
    calls.counts.costUsd += costOf(estimate, calls.price);
    return { ...rules, note: "dry run: one labelling request" };
  }
  if (calls.circuit.down) return { ...rules, note: `rule labels: ${calls.circuit.down}` };
  const claimed = calls.guard.budget ? budgetSpend(calls.guard.budget, estimate, calls.price) : 0;
  if (!calls.guard.claim(claimed)) return { ...rules, note: "rule labels: the budget is reached" };
  const timeoutMs = choice.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = openAIClient({ baseURL: choice.baseURL, apiKey: choice.apiKey, timeoutMs });
  let reply;
  try {
    reply = await sendRequest(
      (signal) =>
        structuredCompletion(client, {
          model: choice.model,
          instructions,
          user,
          schemaName: "segment_labels",
          schema,
          timeoutMs,
          signal,
          inputTokens: estimate.inputTokens,
        }),
      {
        limiter: calls.limiter,
        retry: calls.retry,
        circuit: calls.circuit,
        summary: calls.counts,
        estimatedTokens: estimate.inputTokens + estimate.outputTokens,
      },
    );
  } catch (error) {
    calls.guard.settle(claimed, 0);
    calls.circuit.gaveUp(error);
    return { ...rules, note: `rule labels: the provider failed (${describeFailure(error)})` };
  }
  const used = reply.usage;
  calls.limiter?.settle(estimate.inputTokens + estimate.outputTokens, used.inputTokens + used.outputTokens);
  calls.guard.settle(claimed, calls.guard.budget ? budgetSpend(calls.guard.budget, used, calls.price) : 0);
  calls.counts.inputTokens += used.inputTokens;
  calls.counts.outputTokens += used.outputTokens;
  calls.counts.costUsd += costOf(used, calls.price);
  const checked = validateLabels(reply.body, request, calls.nameWords);
  if ("reason" in checked) {
    calls.counts.invalidResponses += 1;
    return { ...rules, note: `rule labels: the provider's labels were rejected (${checked.reason})` };
  }
  await connection.run(`insert or replace into ${quoteQualified(...table)} values (?, ?, ?, ?, ?::json, ?, ?, ?, now())`, [
    key,
    choice.name,
    choice.model,
    SEGMENT_LABEL_PROMPT_VERSION,
    JSON.stringify([...checked.names].map(([id, n]) => ({ id, ...n }))),
    used.inputTokens,
    used.outputTokens,
    calls.runId,
  ]);
  return { names: checked.names, source: "provider" };
}

/**
 * The provider's labels checked against what was sent: one per segment sent, no two alike, and
 * none naming a known person (nothing sent names one, so a name there is made up or leaked).
 */
export function validateLabels(
  body: unknown,
  request: LabelRequest,
  nameWords: ReadonlySet<string>,
): { names: Map<number, SegmentName> } | { reason: string } {
  if (typeof body === "string") return { reason: `malformed JSON: ${JSON.stringify(body.slice(0, 80))}` };
  // The cache stores the list itself; an answer wraps it.
  const parsed = labelsSchema.safeParse(Array.isArray(body) ? { segments: body } : body);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    return { reason: `invalid labels: ${issues.join("; ")}` };
  }
  const ids = request.segments.map((s) => s.id);
  const got = parsed.data.segments.map((s) => s.id);
  if (got.length !== ids.length || ids.some((id) => !got.includes(id)))
    return { reason: `labels for segments ${got.join(", ")}, sent ${ids.join(", ")}` };
  if (new Set(parsed.data.segments.map((s) => s.label)).size !== got.length) return { reason: "two segments share a label" };
  const named = parsed.data.segments.find((s) =>
    `${s.label} ${s.description}`
      .toLowerCase()
      .split(/\s+/)
      .some((w) => nameWords.has(w.replace(/[^\p{L}\p{N}]/gu, "")) || /\[[a-z_]+_\d+\]/.test(w)),
  );
  if (named) return { reason: `segment ${named.id}'s label or description names a person` };
  return { names: new Map(parsed.data.segments.map((s) => [s.id, { label: s.label, description: s.description }])) };
}

/** The instructions of every labelling request. Edit with SEGMENT_LABEL_PROMPT_VERSION. */
export function labelSystemPrompt(): string {
  return [
    `You name the user segments (personas) of a podcast app's beta, to learn about product-market fit (prompt ${SEGMENT_LABEL_PROMPT_VERSION}).`,
    'The user message is JSON: {"window_days", "everyone": {"people", "averages"}, "segments": [{"id", "people", "rule_label", "averages", "above_average", "below_average"}]}.',
    "averages are per person over the window: active_days, plays, completes, downloads, shares, credit_limit_hits, credits_used and messages are counts;",
    "share_* are the shares of their messages by category (feature_request, bug_report, credits_pricing, churn_risk, praise).",
    "above_average and below_average list the features where the segment differs most from everyone. rule_label is a rule's guess.",
    "For every segment, return its id, a short lowercase label (two or three words, different for each segment) and a one-sentence description of what its members do.",
    "Describe behaviour only: you see no person, and must not invent names.",
    "Answer with JSON only, following the schema.",
  ].join("\n");
}
