/** One message as a provider sees it: a batch-local id (never a message or user id) and its text. */
export interface BatchItem {
  id: string;
  text: string;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** What a provider answered for a batch: the body still to be validated, and what it cost. */
export interface AnnotateReply {
  /** Parsed JSON, or the raw text when the provider's answer was not JSON (validation reports it). */
  body: unknown;
  usage: Usage;
}

export interface EmbedReply {
  vectors: number[][];
  usage: Usage;
}

/**
 * The small interface every provider implements. A provider does not retry, rate limit or
 * validate: `annotate.ts` does that the same way for all of them.
 */
export interface Provider {
  name: "local" | "openai";
  /** Part of every annotation key: a different model annotates again. */
  model: string;
  embeddingModel: string;
  /** True when texts leave the process: they are redacted first and requests are rate limited. */
  remote: boolean;
  /** Messages per request. */
  batchSize: number;
  /** `signal` aborts the request (the provider was found down). */
  annotate(items: BatchItem[], signal?: AbortSignal): Promise<AnnotateReply>;
  embed(texts: string[], signal?: AbortSignal): Promise<EmbedReply>;
  /** Tokens a request for these items would take, before sending it (dry runs, budgets, tokens/min). */
  estimate(items: BatchItem[]): Usage;
}

/**
 * A reply that is not the API's JSON: an HTML page from a proxy or a web UI at the base URL, or
 * JSON of another shape. The next request would get the same, so it is not retried.
 */
export class UnexpectedReply extends Error {
  constructor(what: string, sample: string, hint?: string) {
    super(`${what}: ${JSON.stringify(sample.replace(/\s+/g, " ").trim().slice(0, 80))}${hint ? ` — ${hint}` : ""}`);
    this.name = "UnexpectedReply";
  }
}

/** The usual rule of thumb for English text in BPE tokenizers: about four characters a token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
