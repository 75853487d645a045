import type { Lexicon } from "../lexicon.ts";
import { createLocalProvider } from "./local.ts";
import { createOpenAIProvider } from "./openai.ts";
import type { Provider } from "./provider.ts";

/** Which provider to use and how to reach it. */
export type ProviderChoice =
  | { name: "local" }
  | {
      name: "openai";
      model: string;
      embeddingModel?: string;
      baseURL?: string;
      apiKey?: string;
      timeoutMs?: number;
      batchSize?: number;
    };

export function createProvider(choice: ProviderChoice, lexicon: Lexicon): Provider {
  if (choice.name === "local") return createLocalProvider(lexicon);
  return createOpenAIProvider({ ...choice, categories: lexicon.categories });
}
