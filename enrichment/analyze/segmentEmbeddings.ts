import type { DuckDBConnection } from "@duckdb/node-api";
import { PCA } from "ml-pca";
import { quoteQualified } from "../../runner/quote.ts";
import { embeddingKeySql, embeddingModelKey } from "../embed.ts";
import type { Provider } from "../providers/provider.ts";
import type { AnalysisTables } from "../tables.ts";

/** Directions of the message embeddings a segmentation keeps: what people write about, in a few numbers. */
export const EMBEDDING_COMPONENTS = 4;

/**
 * Each person's messages of the window as one vector: the mean of their messages' embeddings for
 * the provider's embedding model (the current text's, so an edited message counts as it reads
 * now). People with no embedded message are not in the map.
 */
export async function userEmbeddings(
  connection: DuckDBConnection,
  tables: AnalysisTables,
  provider: Provider,
  window: { from: string; to: string },
  userKeys: string[],
): Promise<Map<string, number[]>> {
  const reader = await connection.runAndReadAll(
    `with messages as (
       select message_key, user_key, ${embeddingKeySql("text")} as embedding_key
       from ${quoteQualified(...tables.messages)}
       where message_type = 'regular' and nullif(trim(text), '') is not null and sent_date between ?::date and ?::date
         and user_key in (select unnest(from_json(?::json, '["VARCHAR"]')))
     ),
     embedded as (
       select messages.user_key, embeddings.embedding
       from messages
       join ${quoteQualified(...tables.embeddings)} as embeddings using (message_key, embedding_key)
     ),
     flat as (select user_key, unnest(embedding) as value, unnest(range(len(embedding))) as i from embedded),
     means as (select user_key, i, avg(value) as value from flat group by all)
     select user_key, list(value order by i) as vector from means group by user_key order by user_key`,
    [embeddingModelKey(provider), window.from, window.to, JSON.stringify(userKeys)],
  );
  return new Map(reader.getRowObjectsJS().map((r) => [String(r.user_key), (r.vector as number[]).map(Number)]));
}

/**
 * The people's mean embeddings reduced to their first principal components (ml-pca, NIPALS: only
 * the few components wanted are computed, which keeps a 1,536-dimension model cheap), scaled
 * together so that the first has unit variance over the people who have one (standardizing each
 * would blow the weak, noisy components up to the first's size). Someone without messages gets zeros: the
 * average, so only their behaviour places them. Fewer than three people with messages: no
 * components at all (two points have one direction, and it says nothing about a crowd).
 */
export function embeddingComponents(vectors: (number[] | undefined)[]): number[][] {
  const present = vectors.flatMap((v, i) => (v ? [i] : []));
  const dims = vectors.find((v) => v)?.length ?? 0;
  const n = Math.min(EMBEDDING_COMPONENTS, present.length - 1, dims);
  if (present.length < 3 || n < 1) return vectors.map(() => []);
  const data = present.map((i) => vectors[i]!);
  const pca = new PCA(data, { method: "NIPALS", nCompNIPALS: n });
  const all = pca.predict(data, { nComponents: n }).to2DArray();
  // Past the data's rank NIPALS divides by a zero norm: those components (all of them when everyone wrote alike) are dropped.
  const sdOf = (j: number) => Math.sqrt(all.reduce((s, r) => s + r[j]! ** 2, 0) / all.length);
  let kept = 0;
  while (kept < n && all.every((r) => Number.isFinite(r[kept])) && sdOf(kept) > 1e-9) kept++;
  if (kept === 0) return vectors.map(() => []);
  // Scores are centred; one scale for all keeps the later components as much smaller as they are.
  const sd = sdOf(0);
  const out: number[][] = vectors.map(() => new Array<number>(kept).fill(0));
  present.forEach((i, row) => (out[i] = all[row]!.slice(0, kept).map((x) => x / sd)));
  return out;
}
