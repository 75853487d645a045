import { DEFAULT_TIMEOUT_MS, openAIClient, structuredCompletion } from "../providers/openai.ts";
import type { ProviderChoice } from "../providers/choice.ts";
import { estimateTokens, type AnnotateReply, type Usage } from "../providers/provider.ts";
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
  const client = openAIClient({ baseURL: choice.baseURL, apiKey: choice.apiKey, timeoutMs });
  const instructions = analysisSystemPrompt();
  const schema = analysisJsonSchema();
  const fixed = estimateTokens(instructions) + estimateTokens(JSON.stringify(schema));
  return {
    name: "openai",
    model: choice.model,
    remote: true,
    async analyse(context, signal) {
      const user = JSON.stringify(context);
      // An answer that is not JSON is left as text: validation rejects it and the user-day is tried again.
      return structuredCompletion(client, {
        model: choice.model,
        instructions,
        user,
        schemaName: "user_day_analysis",
        schema,
        timeoutMs,
        signal,
        inputTokens: fixed + estimateTokens(user),
      });
    },
    estimate: (context) => ({ inputTokens: fixed + estimateTokens(JSON.stringify(context)), outputTokens: OUTPUT_TOKENS }),
  };
}
