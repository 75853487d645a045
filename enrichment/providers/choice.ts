// No provider code here: the CLI reads a choice at start-up, before it loads any provider.

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

/** What a user sets, by flag or in duckform.yaml, to pick a provider. */
export interface ProviderSettings {
  provider?: string;
  model?: string;
  embeddingModel?: string;
  baseURL?: string;
  timeoutSeconds?: number;
  batchSize?: number;
}

/** The provider the settings name: `local`, or an OpenAI-compatible server ($OPENAI_MODEL, else gpt-4o-mini). */
export function providerChoice(settings: ProviderSettings): ProviderChoice {
  if (settings.provider === "local") return { name: "local" };
  return {
    name: "openai",
    model: settings.model ?? process.env.OPENAI_MODEL ?? "gpt-4o-mini",
    embeddingModel: settings.embeddingModel,
    baseURL: settings.baseURL,
    timeoutMs: settings.timeoutSeconds === undefined ? undefined : settings.timeoutSeconds * 1000,
    batchSize: settings.batchSize,
  };
}
