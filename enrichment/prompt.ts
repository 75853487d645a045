import type { CategoryRule } from "./lexicon.ts";
import { ENTITY_TYPES, PROMPT_VERSION } from "./output.ts";
import type { BatchItem } from "./providers/provider.ts";

/**
 * The instructions sent with every batch. Changing them changes what annotations mean: bump
 * PROMPT_VERSION in output.ts with any edit here.
 */
export function systemPrompt(categories: CategoryRule[]): string {
  const list = categories.map((c) => `- ${c.category}: ${c.description}`).join("\n");
  return [
    `You annotate chat messages from a product's user community (prompt ${PROMPT_VERSION}).`,
    'The user message is JSON: {"messages": [{"id": ..., "text": ...}]}. Return exactly one annotation per id, with the same id.',
    "For each message:",
    "- category: the single best category from this list:",
    list,
    '- topics: up to 3 short lowercase noun phrases saying what the message is about ("sleep timer", "credit limit"); none for greetings or small talk.',
    `- entities: people, organizations, platforms, products, media (shows, episodes), places and identifiers mentioned, each with a type from: ${ENTITY_TYPES.join(", ")}.`,
    "Personal data has been replaced by placeholders such as [PERSON_1], [EMAIL_1], [PHONE_1], [HANDLE_1], [USER_ID_1]; copy a placeholder verbatim when it names an entity, and never guess what it stands for.",
    "Answer with JSON only, following the schema.",
  ].join("\n");
}

/** The user message of one request: the batch as JSON, ids and (redacted) texts only. */
export function userPrompt(items: BatchItem[]): string {
  return JSON.stringify({ messages: items.map(({ id, text }) => ({ id, text })) });
}
