import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * Bumped whenever the instructions or the local rules change what an annotation would say:
 * it is part of every annotation key, so a new version re-annotates everything once.
 */
export const PROMPT_VERSION = "v1";

/** What an entity can be. Identifiers (url … transaction_hash) come from rules as well as models. */
export const ENTITY_TYPES = [
  "person",
  "organization",
  "platform",
  "product",
  "media",
  "place",
  "url",
  "email",
  "phone",
  "handle",
  "hashtag",
  "crypto_address",
  "transaction_hash",
  "other",
] as const;

export type EntityType = (typeof ENTITY_TYPES)[number];

export interface Entity {
  name: string;
  type: EntityType;
}

/** One message's annotation, as every provider returns it. */
export interface Annotation {
  id: string;
  category: string;
  topics: string[];
  entities: Entity[];
}

export const MAX_TOPICS = 5;
export const MAX_ENTITIES = 50;

/**
 * The schema of one message's annotation for a given set of categories. Strict objects, so the
 * JSON schema sent as structured output forbids extra keys, and zod rejects what the model adds.
 */
export function annotationSchema(categories: readonly string[]) {
  if (categories.length === 0) throw new Error("annotationSchema needs at least one category");
  return z.strictObject({
    id: z.string().min(1),
    category: z.enum(categories as [string, ...string[]]),
    topics: z.array(z.string().trim().min(1).max(200)).max(MAX_TOPICS),
    entities: z
      .array(
        z.strictObject({
          name: z.string().trim().min(1).max(2048),
          type: z.enum(ENTITY_TYPES),
        }),
      )
      .max(MAX_ENTITIES),
  });
}

/** The envelope a batch response must have: one annotation per message id sent. */
export function responseSchema(categories: readonly string[]) {
  return z.strictObject({ annotations: z.array(annotationSchema(categories)) });
}

/**
 * The JSON schema for OpenAI-style structured output, derived from the zod schema so they cannot
 * drift. Length and count limits are left out: strict mode on several servers rejects those
 * keywords, and zod enforces them on the way back anyway.
 */
export function responseJsonSchema(categories: readonly string[]): Record<string, unknown> {
  return withoutKeywords(z.toJSONSchema(responseSchema(categories), { target: "draft-7" }), WIRE_UNSUPPORTED) as Record<string, unknown>;
}

const WIRE_UNSUPPORTED = new Set(["$schema", "minLength", "maxLength", "minItems", "maxItems"]);

function withoutKeywords(value: unknown, drop: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutKeywords(v, drop));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !drop.has(k))
      .map(([k, v]) => [
        k,
        k === "properties"
          ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, withoutKeywords(s, drop)]))
          : withoutKeywords(v, drop),
      ]),
  );
}

/** A short hash of the output schema, part of every annotation key. */
export function outputSchemaHash(categories: readonly string[]): string {
  return createHash("sha256")
    .update(JSON.stringify(responseJsonSchema(categories)))
    .digest("hex")
    .slice(0, 16);
}

/**
 * The annotation key, computed in DuckDB (`sha256(concat_ws(chr(31), normalized text, prompt
 * version, model, schema hash))`) so that pending messages are found without reading every text
 * into JavaScript. `textColumn` is SQL for the message text; `parameters` are bound in order.
 */
export function annotationKeySql(textColumn: string): string {
  return `sha256(concat_ws(chr(31), ${normalizedTextSql(textColumn)}, ?, ?, ?))`;
}

/** The text a key is computed from: Unicode NFC, runs of whitespace as one space, trimmed. */
export function normalizedTextSql(textColumn: string): string {
  return `trim(regexp_replace(nfc_normalize(${textColumn}), '\\s+', ' ', 'g'))`;
}
