import type { DuckDBConnection } from "@duckdb/node-api";
import { kmeans } from "ml-kmeans";
import { quoteQualified } from "../../runner/quote.ts";
import type { Price } from "../cost.ts";
import { embedMessages } from "../embed.ts";
import type { Provider } from "../providers/provider.ts";
import { recordSummary } from "../summary.ts";
import type { AnalysisTables } from "../tables.ts";
import { embeddingComponents, userEmbeddings } from "./segmentEmbeddings.ts";
import { labelSegments, type LabelRequest, type ProviderCalls, type SegmentName } from "./segmentLabels.ts";

/** Behaviour over the quarter before the day, and what people's messages are about (the shares of their messages by category). */
const FEATURES = [
  "active_days",
  "plays",
  "completes",
  "downloads",
  "shares",
  "credit_limit_hits",
  "credits_used",
  "messages",
  "share_feature_request",
  "share_bug_report",
  "share_credits_pricing",
  "share_churn_risk",
  "share_praise",
] as const;
type Feature = (typeof FEATURES)[number];

/** A segment is named for the feature its members most exceed the average in. */
const LABELS: Record<Feature, [string, string]> = {
  active_days: ["regulars", "come back most days"],
  plays: ["power listeners", "play far more than most"],
  completes: ["finishers", "finish what they start"],
  downloads: ["offline listeners", "download episodes to listen offline"],
  shares: ["sharers", "share episodes with others"],
  credit_limit_hits: ["credit-limited", "run out of credits"],
  credits_used: ["premium spenders", "spend credits on premium episodes"],
  messages: ["talkers", "write in the chats a lot"],
  share_feature_request: ["feature seekers", "ask for features"],
  share_bug_report: ["bug reporters", "report bugs"],
  share_credits_pricing: ["price-conscious", "ask about credits and prices"],
  share_churn_risk: ["at risk", "say they may leave"],
  share_praise: ["fans", "praise the product"],
};

const SEED = 15;
const RESTARTS = 10;
const MAX_SEGMENTS = 8;
// A quarter: people write in the chats about once a month, too few messages in 28 days to tell them apart.
export const SEGMENT_DAYS = 91;
// Each embedding component weighs as much as one behaviour feature: what people write about
// places them as much as four behaviours do, and never outweighs the thirteen.
const EMBEDDING_WEIGHT = 1;

/** What segmentation embeds messages with: the provider's embedding model, or the local hashing vectorizer. */
export interface SegmentCalls extends ProviderCalls {
  embedder: Provider;
  embeddingPrice: Price;
}

export interface SegmentReport {
  day: string;
  users: number;
  /** People placed by their messages' embeddings as well as their behaviour. */
  embedded: number;
  embeddingModel: string;
  labelledBy: "provider" | "cache" | "rules";
  /** Why the embeddings or the labels are not what they would be with everything answered. */
  note?: string;
  segments: { id: number; label: string; users: number }[];
}

/**
 * Personas: the people active in the SEGMENT_DAYS to `day`, clustered with k-means (ml-kmeans,
 * the best of ten k-means++ starts from fixed seeds, so a rerun on the same data gives the same
 * segments) on their standardized behaviour and the first components of their messages'
 * embeddings. Every person is segmented, with consent or not, by behaviour; by what they write
 * too when it stays in the process (the local embedding) or when they consented (a provider's:
 * only consenting people's messages are sent, redacted). Each segment is labelled by rules from
 * its centroid's behaviour, no two alike, or by the provider from the segments' aggregates.
 */
export async function segmentUsers(
  connection: DuckDBConnection,
  tables: AnalysisTables,
  day: string,
  calls: SegmentCalls,
): Promise<SegmentReport | null> {
  const t = (name: keyof AnalysisTables) => quoteQualified(...tables[name]);
  const reader = await connection.runAndReadAll(
    `with params as (select ?::date as d),
     users as (
       select u.user_key, coalesce(s.analysis_consent, false) as consent
       from ${t("users")} as u left join ${t("seedUsers")} as s on s.user_id = u.user_id
       where not coalesce(u.is_system, false)
     ),
     events as (select e.* from ${t("events")} as e, params where e.activity_date between params.d - ${SEGMENT_DAYS - 1} and params.d),
     messages as (
       select m.message_key, m.user_key, m.sent_date from ${t("messages")} as m, params
       where m.message_type = 'regular' and m.sent_date between params.d - ${SEGMENT_DAYS - 1} and params.d
     ),
     categories as (
       select message_key, category from ${t("annotations")}
       qualify row_number() over (partition by message_key order by annotated_at desc, annotation_key desc) = 1
     ),
     behaviour as (
       select user_key,
         count(*) filter (where event_type = 'play') as plays,
         count(*) filter (where event_type = 'complete') as completes,
         count(*) filter (where event_type = 'download') as downloads,
         count(*) filter (where event_type = 'share') as shares,
         count(*) filter (where event_type = 'credit_limit_hit') as credit_limit_hits,
         coalesce(sum(credits_used) filter (where event_type = 'play'), 0) as credits_used,
       from events group by user_key
     ),
     talk as (
       select user_key, count(*) as messages,
         avg((category = 'feature_request')::int) as share_feature_request,
         avg((category = 'bug_report')::int) as share_bug_report,
         avg((category = 'credits_pricing')::int) as share_credits_pricing,
         avg((category = 'churn_risk')::int) as share_churn_risk,
         avg((category = 'praise')::int) as share_praise,
       from messages left join categories using (message_key) group by user_key
     ),
     days as (select user_key, activity_date as d from events union select user_key, sent_date from messages),
     active as (select user_key, count(*) as active_days from days group by user_key)
     select active.user_key, users.consent, active.active_days, ${FEATURES.filter((f) => f !== "active_days")
       .map((f) => `coalesce(${f}, 0)::double as ${f}`)
       .join(", ")}
     from active join users using (user_key) left join behaviour using (user_key) left join talk using (user_key)
     order by active.user_key`,
    [day],
  );
  const rows = reader.getRowObjectsJS();
  // Fewer people than this make segments of one or two: not personas.
  if (rows.length < 8) return null;
  const keys = rows.map((r) => String(r.user_key));
  const raw = rows.map((r) => FEATURES.map((f) => Number(r[f] ?? 0)));
  // Counts have long tails (a few people play or write ten times more): logs keep them from owning the distance.
  const shaped = raw.map((v) => v.map((x, j) => (FEATURES[j]!.startsWith("share_") ? x : Math.log1p(x))));
  const means = FEATURES.map((_, j) => shaped.reduce((s, v) => s + v[j]!, 0) / shaped.length);
  const sds = FEATURES.map((_, j) => Math.sqrt(shaped.reduce((s, v) => s + (v[j]! - means[j]!) ** 2, 0) / shaped.length) || 1);
  const scaled = shaped.map((v) => v.map((x, j) => (x - means[j]!) / sds[j]!));

  const { embedder } = calls;
  const window = { from: daysBefore(day, SEGMENT_DAYS - 1), to: day };
  const writers = embedder.remote ? keys.filter((_, i) => rows[i]!.consent === true) : keys;
  const embedded = await embedMessages(connection, {
    runId: calls.runId,
    provider: embedder,
    tables,
    redact: calls.redact,
    limiter: calls.limiter,
    retry: calls.retry,
    circuit: calls.circuit,
    concurrency: calls.concurrency,
    price: calls.embeddingPrice,
    guard: calls.guard,
    dryRun: calls.dryRun,
    scope: { ...window, userKeys: writers },
  });
  await recordSummary(connection, tables.runs, embedded);
  for (const k of ["requests", "retries", "invalidResponses", "inputTokens"] as const) calls.counts[k] += embedded[k];
  calls.counts.costUsd += embedded.costUsd;
  const notes: string[] = [];
  if (embedded.messagesLeft > 0 && !calls.dryRun)
    notes.push(`${embedded.messagesLeft} messages not embedded (${embedded.status.replace("_", " ")}): their writers placed by what is`);
  const vectors = await userEmbeddings(connection, tables, embedder, window, writers);
  const components = embeddingComponents(keys.map((k) => vectors.get(k)));
  const points = scaled.map((v, i) => [...v, ...components[i]!.map((x) => x * EMBEDDING_WEIGHT)]);

  // k-means++ cannot seed more centres than there are distinct points (people who behave and write alike).
  const distinct = new Set(points.map((p) => p.join(","))).size;
  const k = Math.min(distinct, Math.max(2, Math.min(MAX_SEGMENTS, Math.round(Math.sqrt(rows.length / 3)))));
  // k-means++ lands in a local optimum: the best of a few seeded starts, by within-segment distance.
  let best: ReturnType<typeof kmeans> | undefined;
  let bestCost = Infinity;
  for (let start = 0; start < RESTARTS; start++) {
    const result = kmeans(points, k, { seed: SEED + start, initialization: "kmeans++", maxIterations: 200 });
    const cost = points.reduce((sum, v, i) => sum + v.reduce((d, x, j) => d + (x - result.centroids[result.clusters[i]!]![j]!) ** 2, 0), 0);
    if (cost < bestCost) [best, bestCost] = [result, cost];
  }
  const { clusters, centroids } = best!;

  const sizes = centroids.map((_, c) => clusters.filter((x) => x === c).length);
  const order = centroids.map((_, c) => c).sort((a, b) => sizes[b]! - sizes[a]! || a - b);
  const taken = new Set<string>();
  const rules = new Map<number, SegmentName>();
  const request: LabelRequest = { window_days: SEGMENT_DAYS, everyone: { people: rows.length, averages: averagesOf(raw) }, segments: [] };
  order.forEach((c, rank) => {
    // The label reads behaviour only: an embedding component has no name.
    const ranked = FEATURES.map((f, j) => ({ f, z: centroids[c]![j]! })).sort((a, b) => b.z - a.z);
    const pick = ranked.find((r) => r.z > 0.25 && !taken.has(LABELS[r.f][0]));
    const label = pick ? LABELS[pick.f][0] : taken.has("casual listeners") ? `casual listeners ${rank + 1}` : "casual listeners";
    taken.add(label);
    const traits = ranked.filter((r) => r.z > 0.25).slice(0, 3);
    const description = traits.length
      ? `${sizes[c]} people who ${traits.map((r) => LABELS[r.f][1]).join(", ")} (above the average of everyone active)`
      : `${sizes[c]} people near or below the average on every behaviour`;
    rules.set(rank + 1, { label, description });
    request.segments.push({
      id: rank + 1,
      people: sizes[c]!,
      rule_label: label,
      averages: averagesOf(raw.filter((_, i) => clusters[i] === c)),
      above_average: traits.map((r) => r.f),
      below_average: ranked
        .filter((r) => r.z < -0.25)
        .reverse()
        .slice(0, 3)
        .map((r) => r.f),
    });
  });
  const labelling = await labelSegments(connection, tables.segmentLabels, calls, request, rules);
  if (labelling.note) notes.push(labelling.note);
  const idOf = new Map(order.map((c, rank) => [c, rank + 1]));

  const out = keys.map((userKey, i) => {
    const id = idOf.get(clusters[i]!)!;
    const name = labelling.names.get(id)!;
    return {
      user_key: userKey,
      segment_id: id,
      segment_label: name.label,
      segment_description: name.description,
      features: JSON.stringify(Object.fromEntries(FEATURES.map((f, j) => [f, raw[i]![j]]))),
    };
  });
  if (!calls.dryRun)
    await connection.run(
      `insert or replace into ${t("segments")}
       select r.user_key, ?::date, r.segment_id, r.segment_label, r.segment_description, r.features::json, ?, now()
       from (select unnest(from_json(?::json, '[{"user_key":"VARCHAR","segment_id":"INTEGER","segment_label":"VARCHAR","segment_description":"VARCHAR","features":"VARCHAR"}]'), recursive := true)) as r`,
      [day, calls.runId, JSON.stringify(out)],
    );
  else notes.push("dry run: segments not written");
  return {
    day,
    users: rows.length,
    embedded: components[0]!.length === 0 ? 0 : keys.filter((k) => vectors.has(k)).length,
    embeddingModel: embedder.embeddingModel,
    labelledBy: labelling.source,
    ...(notes.length ? { note: notes.join("; ") } : {}),
    segments: [...labelling.names]
      .sort((a, b) => a[0] - b[0])
      .map(([id, n]) => ({ id, label: n.label, users: out.filter((o) => o.segment_id === id).length })),
  };
}

/** Each feature's average over `vectors`, to two decimals: what a provider sees of a group. */
function averagesOf(vectors: number[][]): Record<string, number> {
  return Object.fromEntries(
    FEATURES.map((f, j) => [f, Math.round((vectors.reduce((s, v) => s + v[j]!, 0) / Math.max(1, vectors.length)) * 100) / 100]),
  );
}

function daysBefore(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}
