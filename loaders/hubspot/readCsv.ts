import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { messageOf } from "../../runner/errors.ts";
import { quoteIdent, quoteLiteral } from "../../runner/quote.ts";
import { parseCsv } from "../csv.ts";
import type { SourceRecord } from "../land.ts";

/** The CRM objects HubSpot exports, each into its own raw table. */
export const HUBSPOT_OBJECTS = ["companies", "contacts", "deals"] as const;
export type HubspotObject = (typeof HUBSPOT_OBJECTS)[number];

export interface HubspotCsv {
  header: string[];
  records: SourceRecord[];
}

const REJECTS = "duckform_hubspot_rejects";
const SCANS = "duckform_hubspot_scans";

/**
 * One HubSpot CSV export read by DuckDB's CSV reader (quoting, embedded newlines, a byte-order
 * mark, the header), every column as text: each record becomes one JSON object keyed by the
 * header HubSpot wrote, extra and renamed columns included, so bronze decides what they mean.
 * A row DuckDB cannot read (too many or too few fields, an unclosed quote) is a quarantine record
 * with its physical line and DuckDB's reason. Every record's `line` is the physical line it
 * starts on, quoted newlines counted.
 */
export async function readHubspotCsv(connection: DuckDBConnection, bytes: Buffer, path: string): Promise<HubspotCsv> {
  // DuckDB reads files, not buffers; a zip entry is written out for it.
  const onDisk = path.includes("!/") ? undefined : path;
  const dir = onDisk ? undefined : mkdtempSync(join(tmpdir(), "duckform-hubspot-"));
  const file = onDisk ?? join(dir!, "export.csv");
  if (dir) writeFileSync(file, bytes);
  const source = `read_csv(${quoteLiteral(file)}, header = true, all_varchar = true, store_rejects = true,
    rejects_table = ${quoteLiteral(REJECTS)}, rejects_scan = ${quoteLiteral(SCANS)}, max_line_size = 16777216)`;
  try {
    const described = await connection.runAndReadAll(`describe select * from ${source}`);
    const header = described.getRows().map((row) => String(row[0]));
    const rows = await connection.runAndReadAll(`select to_json(csv) from ${source} as csv`);
    const rejects = (await connection.runAndReadAll(`select line, csv_line, error_message from ${quoteIdent(REJECTS)} order by line`))
      .getRows()
      .map(([line, raw, error]) => ({ record: Number(line), raw: String(raw), error: String(error) }));
    const good = rows.getRows();
    const lines = physicalLines(bytes, good.length + rejects.length + 1);
    // DuckDB numbers records (the header is 1); the file's own lines differ once a quoted field spans lines.
    const rejected = new Set(rejects.map((r) => r.record));
    const goodRecords = Array.from({ length: good.length + rejects.length }, (_, i) => i + 2).filter((r) => !rejected.has(r));
    const lineOf = (record: number) => lines?.[record - 1] ?? record;
    const records: SourceRecord[] = good.map((row, i) => ({ line: lineOf(goodRecords[i]!), json: String(row[0]) }));
    for (const r of rejects) records.push({ line: lineOf(r.record), raw: r.raw, error: `line ${lineOf(r.record)}: ${r.error}` });
    return { header, records };
  } catch (error) {
    throw new Error(`cannot read ${path} as CSV: ${messageOf(error)}`);
  } finally {
    await connection.run(`drop table if exists ${quoteIdent(REJECTS)}; drop table if exists ${quoteIdent(SCANS)}`).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The physical line each record starts on (the header first), from our RFC 4180 reader, when it
 * finds the `records` DuckDB did; otherwise undefined, and records are numbered as DuckDB counts them.
 */
function physicalLines(bytes: Buffer, records: number): number[] | undefined {
  try {
    const parsed = parseCsv(bytes.toString("utf8"));
    return parsed.length === records ? parsed.map((r) => r.line) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Which object an export holds, from the columns HubSpot writes for it (a deals export also has
 * "Associated Company", a contacts export "Company Name", so deals and contacts are tested
 * first), else from its file name (`hubspot-crm-exports-all-deals-2024-06-01.csv`).
 */
export function hubspotObject(header: string[], fileName: string): HubspotObject | undefined {
  const has = (...names: string[]) => names.some((n) => header.some((h) => h.trim().toLowerCase() === n));
  if (has("deal stage", "deal name", "pipeline")) return "deals";
  if (has("email", "first name", "last name")) return "contacts";
  if (has("company name", "company domain name", "website url")) return "companies";
  const name = fileName.toLowerCase();
  return HUBSPOT_OBJECTS.find((object) => name.includes(object.slice(0, -1)) || (object === "companies" && name.includes("compan")));
}
