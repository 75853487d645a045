import type { Lexicon } from "../lexicon.ts";
import { createLocalProvider } from "./local.ts";
import { createOpenAIProvider } from "./openai.ts";
import type { ProviderChoice } from "./choice.ts";
import type { Provider } from "./provider.ts";

export function createProvider(choice: ProviderChoice, lexicon: Lexicon): Provider {
  if (choice.name === "local") return createLocalProvider(lexicon);
  return createOpenAIProvider({ ...choice, categories: lexicon.categories });
}
