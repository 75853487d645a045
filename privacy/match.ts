/**
 * How a forgotten person is recognised in any text, by hashes alone: duckform_meta.forgotten
 * keeps no name, e-mail or id in the clear, yet loaders, the sweep and retention must find them
 * in payloads landed later. A value is cut into words (letters, marks, digits, _), lowercased
 * and joined by one space; "Hiro Rossi", "hiro  rossi" and "HIRO-ROSSI" are all `hiro rossi`,
 * and `hiro.rossi@x.example` is `hiro rossi x example`. An identifier is the sha256 of that. A
 * text mentions one when a run of its words hashes to it. Finding the rows is SQL (temp macros),
 * so a million landed rows are judged by DuckDB; only the few it finds are rewritten in Node.
 */
import { createHash } from "node:crypto";
import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteLiteral } from "../runner/quote.ts";

/** What is forgotten, as the macros take it: identifier hashes, the hashes of their first words, and the longest in words. */
export interface ForgottenSet {
  hashes: string[];
  firstWords: string[];
  maxWords: number;
}

export const NOTHING_FORGOTTEN: ForgottenSet = { hashes: [], firstWords: [], maxWords: 0 };

// A JSON escape (\n in a payload's text) is a gap, so that "Hi\nHiro" still holds the word hiro.
const GAP = "(?:\\\\[nrtbf]|[^\\pL\\pM\\pN_])+";
/** Hashed with a fixed prefix, so that these hashes match no other sha256 of the same text. */
const PREFIX = "duckform-forget:";
/** What stands in a redacted text for one run of a forgotten person's words. */
export const REDACTED = "[forgotten]";

/** The words of a text as the SQL macros cut them (a JSON escape is a gap). */
const GAP_JS = /(?:\\[nrtbf]|[^\p{L}\p{M}\p{N}_])+/u;

/**
 * Defines the temp macros on this connection and puts `set` in session variables, which keeps
 * every statement that uses them small: DuckDB expands a macro at each use, and a literal list
 * of hashes in each would cost more to plan than the scan itself.
 */
export async function defineMatchMacros(connection: DuckDBConnection, set: ForgottenSet = NOTHING_FORGOTTEN): Promise<void> {
  await connection.run(`
    create or replace temp macro duckform_forget_hash(t) as sha256(${quoteLiteral(PREFIX)} || t);
    create or replace temp macro duckform_forget_words(t) as list_filter(string_split_regex(lower(t), ${quoteLiteral(GAP)}), w -> w <> '');
    create or replace temp macro duckform_forget_norm(t) as array_to_string(duckform_forget_words(t), ' ');
    set variable duckform_forget_hashes = ${list(set.hashes)};
    set variable duckform_forget_first = ${list(set.firstWords)};
  `);
}

function list(values: string[]): string {
  return `[${values.map(quoteLiteral).join(", ")}]::varchar[]`;
}

/** SQL: the identifier hash of a value (NULL for NULL). */
export function identifierHashSql(valueSql: string): string {
  return `duckform_forget_hash(duckform_forget_norm(${valueSql}))`;
}

/** SQL: true when the value, as a whole, is one of the forgotten identifiers (a person's own row). Needs defineMatchMacros with the set. */
export function isForgottenSql(valueSql: string): string {
  return `coalesce(list_contains(getvariable('duckform_forget_hashes'), ${identifierHashSql(valueSql)}), false)`;
}

/**
 * SQL: true when the text may mention a forgotten identifier: one of its words is the first word
 * of one. Cheap (one hash a word), so it picks the few rows that redactText then rewrites.
 */
export function mayMentionSql(textSql: string): string {
  return `coalesce(list_has_any(list_transform(duckform_forget_words(${textSql}), w -> duckform_forget_hash(w)), getvariable('duckform_forget_first')), false)`;
}

function hash(words: string): string {
  return createHash("sha256")
    .update(PREFIX + words)
    .digest("hex");
}

/**
 * The text with every run of words that is a forgotten identifier replaced by one REDACTED,
 * cut into words as the SQL macros cut them. Done here rather than in SQL for the few rows
 * mayMentionSql picks: as a macro it planned in a quarter of a second per statement.
 */
export function redactText(text: string, set: ForgottenSet): string {
  const hashes = new Set(set.hashes);
  const words: string[] = [];
  const gaps: string[] = [];
  const re = new RegExp(GAP_JS.source, "gu");
  let at = 0;
  for (const m of text.matchAll(re)) {
    words.push(text.slice(at, m.index));
    gaps.push(m[0]);
    at = m.index + m[0].length;
  }
  words.push(text.slice(at));
  const lower = words.map((w) => w.toLowerCase());
  const covered = new Array<boolean>(words.length).fill(false);
  for (let i = 0; i < words.length; i++) {
    if (lower[i] === "") continue;
    for (let n = Math.min(set.maxWords, words.length - i); n >= 1; n--) {
      const run = lower.slice(i, i + n);
      if (run.includes("")) continue;
      if (hashes.has(hash(run.join(" ")))) {
        for (let j = i; j < i + n; j++) covered[j] = true;
        break;
      }
    }
  }
  let out = "";
  for (let j = 0; j < words.length; j++) {
    out += covered[j] ? (j > 0 && covered[j - 1] ? "" : REDACTED) : words[j];
    if (j < gaps.length) out += covered[j] && covered[j + 1] ? "" : gaps[j];
  }
  return out;
}
