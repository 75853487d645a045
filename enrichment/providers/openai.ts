import OpenAI, { APIConnectionTimeoutError } from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import type { CategoryRule } from "../lexicon.ts";
import { responseJsonSchema } from "../output.ts";
import { systemPrompt, userPrompt } from "../prompt.ts";
import { estimateTokens, UnexpectedReply, type AnnotateReply, type BatchItem, type EmbedReply, type Provider } from "./provider.ts";

export interface OpenAIProviderOptions {
  /** Any OpenAI-compatible server: OpenAI, Ollama, vLLM, llama.cpp… (default $OPENAI_BASE_URL, else OpenAI). */
  baseURL?: string;
  apiKey?: string;
  model: string;
  embeddingModel?: string;
  /** Per request, in milliseconds. */
  timeoutMs?: number;
  batchSize?: number;
  categories: CategoryRule[];
}

const FIXED_TEMPERATURE = /^(?:o\d|gpt-5)/;

// What the model writes per message, roughly: an id, a category, three topics, a few entities.
const OUTPUT_TOKENS_PER_ITEM = 60;

export const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * The `openai` client against an OpenAI-compatible server. Its own retries are off (its default
 * of 2 would run under each of retry.ts's attempts, tripling them): retry.ts retries with the
 * shared rate limiter and the circuit breaker in the loop.
 */
export function openAIClient(options: { baseURL?: string; apiKey?: string; timeoutMs: number }): OpenAI {
  return new OpenAI({
    baseURL: options.baseURL ?? process.env.OPENAI_BASE_URL,
    // Local servers (Ollama, llama.cpp) accept any key; the client insists on one.
    apiKey: options.apiKey ?? process.env.OPENAI_API_KEY ?? "not-needed",
    maxRetries: 0,
    timeout: options.timeoutMs,
  });
}

/**
 * One chat completion whose answer must follow `schema` (strict structured output). The body is
 * the parsed JSON, or the text when it is not JSON, for validation to reject and the work to be
 * tried again; usage is the server's, else estimated (`inputTokens`, and the answer's length).
 */
export async function structuredCompletion(
  client: OpenAI,
  request: {
    model: string;
    instructions: string;
    user: string;
    schemaName: string;
    schema: Record<string, unknown>;
    timeoutMs: number;
    signal?: AbortSignal;
    inputTokens: number;
  },
): Promise<AnnotateReply> {
  const params: ChatCompletionCreateParamsNonStreaming = {
    model: request.model,
    // Reasoning models (o1…, gpt-5…) refuse any temperature but their own.
    ...(FIXED_TEMPERATURE.test(request.model) ? {} : { temperature: 0 }),
    messages: [
      { role: "system", content: request.instructions },
      { role: "user", content: request.user },
    ],
    response_format: { type: "json_schema", json_schema: { name: request.schemaName, strict: true, schema: request.schema } },
  };
  const completion = await bounded(request.timeoutMs, request.signal, (bound) =>
    apiJson(client.chat.completions.create(params, { signal: bound }).withResponse()),
  );
  if (!Array.isArray(completion.choices))
    throw new UnexpectedReply("provider returned JSON that is not a chat completion", JSON.stringify(completion));
  const content = completion.choices[0]?.message?.content ?? "";
  let body: unknown = content;
  try {
    body = JSON.parse(content);
  } catch {
    // Left as text: validation records it as malformed.
  }
  return {
    body,
    usage: {
      inputTokens: completion.usage?.prompt_tokens ?? request.inputTokens,
      outputTokens: completion.usage?.completion_tokens ?? estimateTokens(content),
    },
  };
}

/**
 * Annotation and embeddings through an OpenAI-compatible server, with structured output (a strict
 * JSON schema derived from the zod schema); see openAIClient for retries.
 */
export function createOpenAIProvider(options: OpenAIProviderOptions): Provider {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = openAIClient({ baseURL: options.baseURL, apiKey: options.apiKey, timeoutMs });
  const instructions = systemPrompt(options.categories);
  const schema = responseJsonSchema(options.categories.map((c) => c.category));
  const embeddingModel = options.embeddingModel ?? "text-embedding-3-small";

  return {
    name: "openai",
    model: options.model,
    embeddingModel,
    remote: true,
    batchSize: options.batchSize ?? 20,
    async annotate(items: BatchItem[], signal?: AbortSignal): Promise<AnnotateReply> {
      return structuredCompletion(client, {
        model: options.model,
        instructions,
        user: userPrompt(items),
        schemaName: "message_annotations",
        schema,
        timeoutMs,
        signal,
        inputTokens: this.estimate(items).inputTokens,
      });
    },
    async embed(texts: string[], signal?: AbortSignal): Promise<EmbedReply> {
      const response = await bounded(timeoutMs, signal, (bound) =>
        // Floats, not the client's default base64: not every compatible server implements base64.
        apiJson(
          client.embeddings.create({ model: embeddingModel, input: texts, encoding_format: "float" }, { signal: bound }).withResponse(),
        ),
      );
      if (!Array.isArray(response.data))
        throw new UnexpectedReply("provider returned JSON that is not an embedding list", JSON.stringify(response));
      const vectors = [...response.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      const inputTokens = response.usage?.prompt_tokens ?? texts.reduce((n, t) => n + estimateTokens(t), 0);
      return { vectors, usage: { inputTokens, outputTokens: 0 } };
    },
    estimate(items: BatchItem[]) {
      return {
        inputTokens: estimateTokens(instructions) + estimateTokens(JSON.stringify(schema)) + estimateTokens(userPrompt(items)),
        outputTokens: OUTPUT_TOKENS_PER_ITEM * items.length,
      };
    },
  };
}

/**
 * The client's timeout stops at the response headers: a server that sends them and then stalls
 * would hold the request for ever. The whole request, body included, gets the same limit here,
 * and ends as a timeout either way.
 */
export async function bounded<T>(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  request: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timer = AbortSignal.timeout(timeoutMs);
  try {
    return await request(signal ? AbortSignal.any([signal, timer]) : timer);
  } catch (error) {
    if (timer.aborted && !signal?.aborted) throw new APIConnectionTimeoutError();
    throw error;
  }
}

/**
 * The parsed body, or an UnexpectedReply when it is not JSON: the client hands back the text of
 * a reply that does not say it is JSON (an HTML page), and throws a SyntaxError for one that says
 * so and is not.
 */
export async function apiJson<T>(reply: Promise<{ data: T; response: Response }>): Promise<T> {
  let answer;
  try {
    answer = await reply;
  } catch (error) {
    if (error instanceof SyntaxError)
      throw new UnexpectedReply("provider returned HTML/text, not JSON (though its content-type said JSON)", error.message, BASE_URL_HINT);
    throw error;
  }
  const { data, response } = answer;
  if (data === null || typeof data !== "object") {
    const type = response.headers.get("content-type");
    throw new UnexpectedReply(
      `provider returned HTML/text, not JSON (${type ? `content-type ${type}` : "no content-type"})`,
      String(data ?? ""),
      BASE_URL_HINT,
    );
  }
  return data;
}

const BASE_URL_HINT = "is --base-url the API's? It usually ends in /v1";
