import type { SourceDocument, SourceRecord } from "../land.ts";

/**
 * A parsed document as it crosses from a parse worker to the loader: every record's JSON text in
 * one string rather than one object per record. Copying tens of thousands of small objects
 * between threads took longer than parsing them; one string is copied whole. JSON.stringify
 * writes no raw newline, so a newline can part the records' texts.
 */
export interface PackedDocument extends Omit<SourceDocument, "records"> {
  recordLines: number[];
  /** The records' `json`, newline-separated; an empty text for a record without one. */
  json: string;
  /** The records without `json` (bound for the quarantine), by their index among the records. */
  others: { at: number; raw?: string; error?: string }[];
}

export function packDocument({ records, ...document }: SourceDocument): PackedDocument {
  const texts: string[] = [];
  const others: PackedDocument["others"] = [];
  for (const [at, record] of records.entries()) {
    texts.push(record.json ?? "");
    if (record.json === undefined) others.push({ at, raw: record.raw, error: record.error });
  }
  return { ...document, recordLines: records.map((r) => r.line), json: texts.join("\n"), others };
}

export function unpackDocument({ recordLines: lines, json, others, ...document }: PackedDocument): SourceDocument {
  const texts = lines.length > 0 ? json.split("\n") : [];
  const records: SourceRecord[] = texts.map((text, i) => ({ line: lines[i]!, json: text }));
  for (const { at, raw, error } of others) {
    const record: SourceRecord = { line: lines[at]! };
    if (raw !== undefined) record.raw = raw;
    if (error !== undefined) record.error = error;
    records[at] = record;
  }
  return { ...document, records };
}
