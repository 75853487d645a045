/** The people and identifiers that must never leave the process in a message text. */
export interface KnownIdentities {
  /** Full names and chat names of known users: replaced wherever they appear, any case. */
  names: string[];
  /** User ids, Slack user ids, user keys: replaced wherever they appear as a token. */
  ids: string[];
}

export interface Redacted {
  text: string;
  /** placeholder → original, for putting the originals back into what the provider returns. */
  placeholders: Map<string, string>;
}

export type Redactor = (text: string) => Redacted;

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
// Slack writes mentions as <@U123ABC> or <@U123ABC|name>.
const SLACK_MENTION = /<@[A-Z0-9]+(?:\|[^>]*)?>/g;
const HANDLE = /(?<![\p{L}\p{N}_])@[\p{L}\p{N}_.]{2,}[\p{L}\p{N}_]/gu;
// 8 to 15 digits with at most one separator between them, optionally after + or 00.
const PHONE = /(?<![\p{L}\p{N}_+])(?:\+|00)?\d(?:[ ().-]{0,2}\d){7,14}(?![\p{L}\p{N}_])/gu;
const DATE_LIKE = /^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4})$/;
const PLACEHOLDER = /\[(?:EMAIL|PHONE|HANDLE|PERSON|USER_ID)_\d+\]/g;

/**
 * Builds the function that replaces personal data in a text by placeholders before it is sent
 * anywhere: emails, phone numbers, @handles, Slack mentions, the ids of known users and their
 * names. Each distinct original gets one numbered placeholder per text (`[EMAIL_1]`), so a
 * model can still tell two people apart; `restorePlaceholders` puts the originals back.
 */
export function createRedactor(known: KnownIdentities): Redactor {
  const names = distinctLongestFirst(known.names.map((n) => n.trim()).filter((n) => n.length >= 2));
  // A display name's parts ("Rossi" of "Hiro Rossi") are caught only when capitalized, so a
  // surname that is also a word ("Long") does not swallow the word everywhere.
  const parts = distinctLongestFirst(
    known.names
      .flatMap((n) => n.trim().split(/\s+/))
      .filter((p) => p.length >= 3 && /^\p{Lu}/u.test(p) && !names.some((n) => n.toLowerCase() === p.toLowerCase())),
  );
  const ids = distinctLongestFirst(known.ids.map((i) => i.trim()).filter((i) => i.length >= 3));
  const nameRe = wordAlternation(names, "giu");
  const partRe = wordAlternation(parts, "gu");
  const idRe = wordAlternation(ids, "gu");

  return (input: string): Redacted => {
    const placeholders = new Map<string, string>();
    const byOriginal = new Map<string, string>();
    const counters = new Map<string, number>();
    const replace = (kind: string) => (original: string) => {
      const key = `${kind}\u0000${kind === "PERSON" ? original.toLowerCase() : original}`;
      let placeholder = byOriginal.get(key);
      if (!placeholder) {
        const n = (counters.get(kind) ?? 0) + 1;
        counters.set(kind, n);
        placeholder = `[${kind}_${n}]`;
        byOriginal.set(key, placeholder);
        placeholders.set(placeholder, original);
      }
      return placeholder;
    };
    let text = input.replace(EMAIL, replace("EMAIL"));
    text = text.replace(SLACK_MENTION, replace("USER_ID"));
    if (idRe) text = text.replace(idRe, replace("USER_ID"));
    text = text.replace(HANDLE, replace("HANDLE"));
    text = text.replace(PHONE, (match) => (DATE_LIKE.test(match) ? match : replace("PHONE")(match)));
    if (nameRe) text = text.replace(nameRe, replace("PERSON"));
    if (partRe) text = text.replace(partRe, replace("PERSON"));
    return { text, placeholders };
  };
}

/** Puts the originals back into a string the provider returned. Unknown placeholders stay. */
export function restorePlaceholders(value: string, placeholders: Map<string, string>): string {
  if (placeholders.size === 0) return value;
  return value.replace(PLACEHOLDER, (p) => placeholders.get(p) ?? p);
}

/** True when a string still holds a placeholder (one the model made up, or mangled). */
export function hasPlaceholder(value: string): boolean {
  return new RegExp(PLACEHOLDER.source).test(value);
}

function distinctLongestFirst(values: string[]): string[] {
  return [...new Set(values)].sort((a, b) => b.length - a.length || a.localeCompare(b));
}

function wordAlternation(values: string[], flags: string): RegExp | null {
  if (values.length === 0) return null;
  const escaped = values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${escaped.join("|")})(?![\\p{L}\\p{N}_])`, flags);
}
