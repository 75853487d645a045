import type { DuckDBConnection } from "@duckdb/node-api";
import { UserError } from "../runner/errors.ts";
import { quoteQualified } from "../runner/quote.ts";
import type { Provider } from "./providers/provider.ts";
import type { Redactor } from "./redact.ts";
import type { EnrichmentTables } from "./tables.ts";

export interface SearchHit {
  message_key: string;
  similarity: number;
  source: string;
  chat_name: string | null;
  author_name: string | null;
  sent_at: string | null;
  text: string;
}

/**
 * The messages nearest to `query` by cosine similarity of embeddings, for the provider's
 * embedding model. The query is embedded like a message (redacted first when it leaves the process).
 */
export async function searchMessages(
  connection: DuckDBConnection,
  options: { provider: Provider; tables: EnrichmentTables; redact: Redactor; query: string; limit: number },
): Promise<SearchHit[]> {
  const { provider } = options;
  const text = provider.remote ? options.redact(options.query).text : options.query;
  const [vector] = (await provider.embed([text])).vectors;
  if (!vector || vector.length === 0) throw new UserError(`${provider.name} returned no embedding for the query`);
  const embeddings = quoteQualified(...options.tables.embeddings);
  const stored = await connection.runAndReadAll(`select count(*) from ${embeddings} where model = ?`, [provider.embeddingModel]);
  if (Number(stored.getRows()[0]?.[0] ?? 0) === 0) {
    throw new UserError(`no message has an embedding for ${provider.embeddingModel}: run \`duckform enrich --embeddings\` first`);
  }
  // A fixed-size ARRAY is what array_cosine_similarity takes. Its size is part of the type, so it
  // cannot be a bound parameter: it is the length of the vector the provider returned, an integer.
  const dims = vector.length;
  if (!Number.isSafeInteger(dims)) throw new Error(`embedding length ${dims} is not an integer`);
  const reader = await connection.runAndReadAll(
    `select e.message_key,
            array_cosine_similarity(e.embedding::float[${dims}], ?::json::float[]::float[${dims}]) as similarity,
            m.source, m.chat_name, m.author_name, strftime(m.sent_at, '%Y-%m-%d %H:%M') as sent_at, m.text
     from ${embeddings} as e
     join ${quoteQualified(...options.tables.messages)} as m using (message_key)
     where e.model = ? and e.dimensions = ?
     qualify row_number() over (partition by e.message_key order by e.embedded_at desc) = 1
     order by similarity desc, e.message_key
     limit ?`,
    [JSON.stringify(vector), provider.embeddingModel, dims, options.limit],
  );
  return reader.getRowObjectsJS().map((r) => ({
    message_key: String(r.message_key),
    similarity: Number(r.similarity),
    source: String(r.source),
    chat_name: r.chat_name === null ? null : String(r.chat_name),
    author_name: r.author_name === null ? null : String(r.author_name),
    sent_at: r.sent_at === null ? null : String(r.sent_at),
    text: String(r.text),
  }));
}
