import OpenAI from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { apiJson, bounded, DEFAULT_TIMEOUT_MS } from "../providers/openai.ts";
import type { ProviderChoice } from "../providers/choice.ts";
import { estimateTokens, UnexpectedReply, type AnnotateReply, type Usage } from "../providers/provider.ts";
import type { WireContext } from "./context.ts";
import { analysisJsonSchema, analysisSystemPrompt } from "./insight.ts";
import { analyseLocally, LOCAL_ANALYST_MODEL } from "./localAnalyst.ts";

/** Who reads a user-day: the local rules or an OpenAI-compatible server. Retries, limits and validation are analyze.ts's. */
export interface Analyst {
  name: "local" | "openai";
  model: string;
  /** True when contexts leave the process: redacted first, rate limited. */
  remote: boolean;
  analyse(context: WireContext, signal?: AbortSignal): Promise<AnnotateReply>;
  estimate(context: WireContext): Usage;
}

// A full answer: four lists of a few items, each with a label and a few ids.
const OUTPUT_TOKENS = 400;

export function createAnalyst(choice: ProviderChoice): Analyst {
  if (choice.name === "local") {
    return {
      name: "local",
      model: LOCAL_ANALYST_MODEL,
      remote: false,
      analyse: async (context) => ({ body: analyseLocally(context), usage: { inputTokens: 0, outputTokens: 0 } }),
      estimate: () => ({ inputTokens: 0, outputTokens: 0 }),
    };
  }
  const timeoutMs = choice.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new OpenAI({
    baseURL: choice.baseURL ?? process.env.OPENAI_BASE_URL,
    apiKey: choice.apiKey ?? process.env.OPENAI_API_KEY ?? "not-needed",
    // retry.ts retries, with the shared limiter and the circuit in the loop.
    maxRetries: 0,
    timeout: timeoutMs,
  });
  const instructions = analysisSystemPrompt();
  const schema = analysisJsonSchema();
  const fixed = estimateTokens(instructions) + estimateTokens(JSON.stringify(schema));
  return {
    name: "openai",
    model: choice.model,
    remote: true,
    async analyse(context, signal) {
      const user = JSON.stringify(context);
      const request: ChatCompletionCreateParamsNonStreaming = {
        model: choice.model,
        ...(/^(?:o\d|gpt-5)/.test(choice.model) ? {} : { temperature: 0 }),
        messages: [
          { role: "system", content: instructions },
          { role: "user", content: user },
        ],
        response_format: { type: "json_schema", json_schema: { name: "user_day_analysis", strict: true, schema } },
      };
      const completion = await bounded(timeoutMs, signal, (bound) =>
        apiJson(client.chat.completions.create(request, { signal: bound }).withResponse()),
      );
      if (!Array.isArray(completion.choices))
        throw new UnexpectedReply("provider returned JSON that is not a chat completion", JSON.stringify(completion));
      const content = completion.choices[0]?.message?.content ?? "";
      let body: unknown = content;
      try {
        body = JSON.parse(content);
      } catch {
        // Left as text: validation rejects it as malformed and the user-day is tried again.
      }
      return {
        body,
        usage: {
          inputTokens: completion.usage?.prompt_tokens ?? fixed + estimateTokens(user),
          outputTokens: completion.usage?.completion_tokens ?? estimateTokens(content),
        },
      };
    },
    estimate: (context) => ({ inputTokens: fixed + estimateTokens(JSON.stringify(context)), outputTokens: OUTPUT_TOKENS }),
  };
}
