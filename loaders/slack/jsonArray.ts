/** One element of a top-level JSON array, the 1-based line where it starts, and where its text lies. */
export interface JsonArrayElement {
  value: unknown;
  line: number;
  /** Offsets of the element's text in the file's text, `end` exclusive (trailing whitespace included). */
  start: number;
  end: number;
}

/**
 * Parses a file holding one JSON array (Slack's `users.json`, day files) and reports the line
 * each element starts on, so that a quarantined or landed row points at its place in the file.
 * Throws a SyntaxError (from JSON.parse) when the text is not JSON, and an Error when it is
 * JSON but not an array.
 */
export function parseJsonArray(text: string): JsonArrayElement[] {
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const value: unknown = JSON.parse(bom ? text.slice(1) : text);
  if (!Array.isArray(value)) throw new Error(`expected a JSON array, found ${value === null ? "null" : typeof value}`);
  const places = elementPlaces(text, bom);
  return value.map((element, i) => ({ value: element, ...(places[i] ?? { line: 1, start: 0, end: 0 }) }));
}

/** Where each top-level element of an already valid JSON array starts (line, offset) and ends. */
function elementPlaces(text: string, from: number): { line: number; start: number; end: number }[] {
  const places: { line: number; start: number; end: number }[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectValue = false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) line++;
    if (inString) {
      if (c === 92)
        i++; // a backslash escapes the next character (never a newline in valid JSON)
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    if (depth === 1 && expectValue && c !== 93) {
      places.push({ line, start: i, end: text.length });
      expectValue = false;
    }
    if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      depth++;
      if (depth === 1) expectValue = true;
    } else if (c === 93 || c === 125) {
      depth--;
      if (depth === 0 && places.length > 0) places[places.length - 1].end = i;
    } else if (c === 44 && depth === 1) {
      places[places.length - 1].end = i;
      expectValue = true;
    }
  }
  return places;
}

/** Lines in a text the way an editor numbers them: a final newline does not open a new line. */
export function countLines(text: string): number {
  if (text.length === 0) return 0;
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return text.endsWith("\n") ? n : n + 1;
}
