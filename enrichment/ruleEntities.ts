import type { Entity, EntityType } from "./output.ts";

/** An entity found by a rule, with where it sits in the text. */
export interface Span extends Entity {
  start: number;
  end: number;
}

// Order matters: earlier rules claim their characters first (an email is not also a handle).
const RULES: [EntityType, RegExp][] = [
  ["url", /\b(?:https?:\/\/|www\.)[^\s<>"'`]+[^\s<>"'`.,;:!?)\]]/giu],
  ["email", /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu],
  ["transaction_hash", /(?<![\p{L}\p{N}])0x[0-9a-fA-F]{64}(?![\p{L}\p{N}])/gu],
  ["crypto_address", /(?<![\p{L}\p{N}])0x[0-9a-fA-F]{40}(?![\p{L}\p{N}])/gu],
  // Bitcoin: bech32 (bc1…) and legacy base58 (1… or 3…, 26-35 characters, with a digit and both cases).
  ["crypto_address", /(?<![\p{L}\p{N}])bc1[ac-hj-np-z02-9]{11,71}(?![\p{L}\p{N}])/gu],
  [
    "crypto_address",
    /(?<![\p{L}\p{N}])[13](?=[1-9A-HJ-NP-Za-km-z]*[a-km-z])(?=[1-9A-HJ-NP-Za-km-z]*[A-HJ-NP-Z])[1-9A-HJ-NP-Za-km-z]{25,34}(?![\p{L}\p{N}])/gu,
  ],
  ["handle", /(?<![\p{L}\p{N}_])@[\p{L}\p{N}_.]{1,}[\p{L}\p{N}_]/gu],
  ["hashtag", /(?<![\p{L}\p{N}_&#])#[\p{L}_][\p{L}\p{N}_]+/gu],
  ["phone", /(?<![\p{L}\p{N}_+])(?:\+|00)?\d(?:[ ().-]{0,2}\d){7,14}(?![\p{L}\p{N}_])/gu],
];

// Slack's broadcast mentions address a channel, not somebody.
const BROADCAST = new Set(["@here", "@channel", "@everyone"]);
const DATE_LIKE = /^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4})$/;

/**
 * Identifiers found by pattern: URLs, emails, transaction hashes, crypto addresses (Ethereum,
 * Bitcoin), @handles, #hashtags and phone numbers, each span claimed once, in text order.
 */
export function ruleEntities(text: string): Span[] {
  const spans: Span[] = [];
  for (const [type, pattern] of RULES) {
    for (const match of text.matchAll(pattern)) {
      const start = match.index;
      const end = start + match[0].length;
      if (type === "phone" && DATE_LIKE.test(match[0])) continue;
      if (type === "handle" && BROADCAST.has(match[0].toLowerCase())) continue;
      if (overlaps(spans, start, end)) continue;
      spans.push({ name: match[0], type, start, end });
    }
  }
  return spans.sort((a, b) => a.start - b.start);
}

export function overlaps(spans: { start: number; end: number }[], start: number, end: number): boolean {
  return spans.some((s) => start < s.end && s.start < end);
}

/** Entities without repeats: one per type and case-folded name, first spelling kept. */
export function distinctEntities(entities: Entity[]): Entity[] {
  const seen = new Set<string>();
  const out: Entity[] = [];
  for (const e of entities) {
    const key = `${e.type}\u0000${e.name.trim().toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ name: e.name.trim(), type: e.type });
  }
  return out;
}
