import OpenAI from "openai";
import type { CategoryRule } from "../lexicon.ts";
import { responseJsonSchema } from "../output.ts";
import { systemPrompt, userPrompt } from "../prompt.ts";
import { estimateTokens, type AnnotateReply, type BatchItem, type EmbedReply, type Provider } from "./provider.ts";

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

/**
 * The `openai` client against an OpenAI-compatible server, with structured output (a strict
 * JSON schema derived from the zod schema). The client's own retries are off: retry.ts retries
 * with the shared rate limiter in the loop.
 */
export function createOpenAIProvider(options: OpenAIProviderOptions): Provider {
  const client = new OpenAI({
    baseURL: options.baseURL ?? process.env.OPENAI_BASE_URL,
    // Local servers (Ollama, llama.cpp) accept any key; the client insists on one.
    apiKey: options.apiKey ?? process.env.OPENAI_API_KEY ?? "not-needed",
    maxRetries: 0,
    timeout: options.timeoutMs ?? 60_000,
  });
  const instructions = systemPrompt(options.categories);
  const schema = responseJsonSchema(options.categories.map((c) => c.category));
  const embeddingModel = options.embeddingModel ?? "text-embedding-3-small";

  return {
    name: "openai",
    model: options.model,
    embeddingModel,
    remote: true,
    batchSize: options.batchSize ?? 20,
    async annotate(items: BatchItem[]): Promise<AnnotateReply> {
      const completion = await client.chat.completions.create({
        model: options.model,
        // Reasoning models (o1…, gpt-5…) refuse any temperature but their own.
        ...(FIXED_TEMPERATURE.test(options.model) ? {} : { temperature: 0 }),
        messages: [
          { role: "system", content: instructions },
          { role: "user", content: userPrompt(items) },
        ],
        response_format: { type: "json_schema", json_schema: { name: "message_annotations", strict: true, schema } },
      });
      const content = completion.choices[0]?.message?.content ?? "";
      let body: unknown = content;
      try {
        body = JSON.parse(content);
      } catch {
        // Left as text: validation records it as malformed and the items are tried again.
      }
      const estimate = this.estimate(items);
      return {
        body,
        usage: {
          inputTokens: completion.usage?.prompt_tokens ?? estimate.inputTokens,
          outputTokens: completion.usage?.completion_tokens ?? estimateTokens(content),
        },
      };
    },
    async embed(texts: string[]): Promise<EmbedReply> {
      // Floats, not the client's default base64: not every compatible server implements base64.
      const response = await client.embeddings.create({ model: embeddingModel, input: texts, encoding_format: "float" });
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
