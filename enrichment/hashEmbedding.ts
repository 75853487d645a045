/** Dimensions of the local embedding: enough to keep collisions rare for chat-sized texts. */
export const HASH_DIMENSIONS = 256;

/**
 * A hashing-vectorizer embedding: words and the character trigrams inside them, hashed (FNV-1a)
 * into a fixed number of signed buckets, log-scaled and L2-normalized. No model, no vocabulary,
 * deterministic: texts that share words or word stems land near each other under cosine similarity.
 */
export function hashEmbedding(text: string, dimensions = HASH_DIMENSIONS): number[] {
  const vector = new Float64Array(dimensions);
  const counts = new Map<string, number>();
  const words =
    text
      .normalize("NFKC")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const word of words) {
    if (STOPWORDS.has(word)) continue;
    counts.set(`w:${word}`, (counts.get(`w:${word}`) ?? 0) + 1);
    const padded = `^${word}$`;
    for (let i = 0; i + 3 <= padded.length; i++) {
      const gram = `c:${padded.slice(i, i + 3)}`;
      counts.set(gram, (counts.get(gram) ?? 0) + 0.5);
    }
  }
  for (const [feature, count] of counts) {
    const h = fnv1a(feature);
    const index = h % dimensions;
    // The top bit decides the sign, so collisions cancel out on average instead of piling up.
    vector[index]! += (h & 0x80000000 ? -1 : 1) * Math.log1p(count);
  }
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  return Array.from(vector, (v) => (norm > 0 ? v / norm : 0));
}

function fnv1a(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const STOPWORDS = new Set(
  "a an and are as at be but by for from has have i if in is it its me my of on or our so that the their this to was we were what when where which who will with you your".split(
    " ",
  ),
);
