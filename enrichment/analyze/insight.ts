import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * Bumped whenever the instructions, the context or the local rules change what an analysis would
 * say: it is part of every analysis key, so a new version analyses every user-day again once.
 */
export const ANALYSIS_PROMPT_VERSION = "a1";

/** Behaviour metrics an item may cite instead of (or besides) messages: the names in the context's `metrics`. */
export const METRICS = [
  "events",
  "plays",
  "completes",
  "episodes",
  "credits_used",
  "credit_limit_hits",
  "downloads",
  "shares",
  "active_days_28d",
  "active_days_7d",
  "messages_28d",
] as const;

export const INSIGHT_KINDS = ["use_cases", "friction_points", "value_signals", "pay_signals"] as const;
export type InsightKind = (typeof INSIGHT_KINDS)[number];

const MAX_ITEMS = 5;
const MAX_EVIDENCE = 10;

const evidence = z.array(z.string().min(1)).max(MAX_EVIDENCE);

/** One finding: a short label, the context message ids it rests on, and the metrics it reads. */
const item = z
  .strictObject({
    label: z.string().trim().toLowerCase().min(2).max(80),
    evidence,
    metrics: z.array(z.enum(METRICS)).max(METRICS.length),
  })
  .refine((i) => i.evidence.length + i.metrics.length > 0, "an item must cite a message or a metric");

/** The provider's answer for one user-day, before its evidence ids are checked against the context. */
export const analysisSchema = z.strictObject({
  use_cases: z.array(item).max(MAX_ITEMS),
  friction_points: z.array(item).max(MAX_ITEMS),
  value_signals: z.array(item).max(MAX_ITEMS),
  pay_signals: z.array(item).max(MAX_ITEMS),
  sentiment: z.strictObject({ label: z.enum(["positive", "neutral", "negative"]), score: z.number().min(-1).max(1), evidence }),
  churn_risk: z.strictObject({ level: z.enum(["low", "medium", "high"]), evidence, metrics: z.array(z.enum(METRICS)) }),
});

export type Analysis = z.infer<typeof analysisSchema>;
export type InsightItem = Analysis["use_cases"][number];

/**
 * The provider's answer validated against the schema and the context: every evidence id must be
 * one the context sent. Returns the analysis or the reason it was rejected.
 */
export function validateAnalysis(body: unknown, contextIds: ReadonlySet<string>): { analysis: Analysis } | { reason: string } {
  if (typeof body === "string") return { reason: `malformed JSON: ${JSON.stringify(body.slice(0, 80))}` };
  const parsed = analysisSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    return { reason: `invalid analysis: ${issues.join("; ")}` };
  }
  const cited = [
    ...INSIGHT_KINDS.flatMap((k) => parsed.data[k].flatMap((i) => i.evidence)),
    ...parsed.data.sentiment.evidence,
    ...parsed.data.churn_risk.evidence,
  ];
  const foreign = [...new Set(cited.filter((id) => !contextIds.has(id)))];
  if (foreign.length > 0) return { reason: `evidence outside the context: ${foreign.slice(0, 5).join(", ")}` };
  return { analysis: parsed.data };
}

/**
 * Evidence ids (context-local) replaced by the message keys they stand for, and labels cleaned
 * of people: a word that is part of a known person's name (any case: topics are lowercase) or a
 * placeholder is dropped, and an item whose label has nothing left is dropped with it.
 */
export function withMessageKeys(analysis: Analysis, keyOf: ReadonlyMap<string, string>, nameWords: ReadonlySet<string>): Analysis {
  const map = (ids: string[]) => ids.map((id) => keyOf.get(id)!);
  const clean = (label: string) => {
    const kept = label
      .split(/\s+/)
      .filter((w) => !nameWords.has(w.replace(/[^\p{L}\p{N}]/gu, "")) && !/\[[A-Z_]+_\d+\]/.test(w))
      .join(" ")
      .trim();
    // "missing: [PERSON_1]" says nothing once the person is gone.
    return /:\s*$/.test(kept) ? "" : kept;
  };
  const items = (list: InsightItem[]) =>
    list.map((i) => ({ ...i, label: clean(i.label), evidence: map(i.evidence) })).filter((i) => i.label.length >= 2);
  return {
    use_cases: items(analysis.use_cases),
    friction_points: items(analysis.friction_points),
    value_signals: items(analysis.value_signals),
    pay_signals: items(analysis.pay_signals),
    sentiment: { ...analysis.sentiment, evidence: map(analysis.sentiment.evidence) },
    churn_risk: { ...analysis.churn_risk, evidence: map(analysis.churn_risk.evidence) },
  };
}

/** The JSON schema sent as structured output (length limits left out, as for annotations: zod checks them). */
export function analysisJsonSchema(): Record<string, unknown> {
  return wireJsonSchema(analysisSchema);
}

/** A zod schema as strict structured output takes it: draft-7, without the limits servers reject (zod checks them on the answer). */
export function wireJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return strip(z.toJSONSchema(schema, { target: "draft-7", unrepresentable: "any" })) as Record<string, unknown>;
}

const WIRE_UNSUPPORTED = new Set(["$schema", "minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum"]);

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !WIRE_UNSUPPORTED.has(k))
      .map(([k, v]) => [k, k === "properties" ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, strip(s)])) : strip(v)]),
  );
}

/** The analysis key: user × day × content hash × prompt version × model. */
export function analysisKey(userKey: string, day: string, contentHash: string, model: string): string {
  return createHash("sha256").update([userKey, day, contentHash, ANALYSIS_PROMPT_VERSION, model].join("\u001f")).digest("hex");
}

/** The instructions of every analysis request. Edit with ANALYSIS_PROMPT_VERSION. */
export function analysisSystemPrompt(): string {
  return [
    `You analyse one beta user's day of a podcast app, to learn about product-market fit (prompt ${ANALYSIS_PROMPT_VERSION}).`,
    'The user message is JSON: {"day", "plan", "metrics": {...}, "messages": [{"id", "days_ago", "text", "category"}]}: what the person wrote that day and in the two weeks before, and their behaviour.',
    "Return, as short lowercase labels (a few words, the same wording for the same thing):",
    "- use_cases: what they are trying to accomplish;",
    "- friction_points: where they get stuck (bugs, confusion, limits);",
    "- value_signals: signs they get value (completing, downloading, sharing, praise);",
    "- pay_signals: signs they would pay (credit exhaustion, upgrade or pricing questions);",
    "- sentiment (positive, neutral, negative; score -1..1) and churn_risk (low, medium, high).",
    `Every item cites evidence: ids of the messages it rests on (only ids from the input) and/or metric names from: ${METRICS.join(", ")}.`,
    "Personal data has been replaced by placeholders such as [PERSON_1]; never guess what they stand for and never put one in a label.",
    "Answer with JSON only, following the schema.",
  ].join("\n");
}
