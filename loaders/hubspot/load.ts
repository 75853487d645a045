import type { Database } from "../../runner/database.ts";
import { messageOf } from "../../runner/errors.ts";
import { landDocuments, type LandResult, type SourceDocument } from "../land.ts";
import { ensureLandingTables, newLoadId } from "../ledger.ts";
import type { LoadProgress } from "../progress.ts";
import { openInputFiles, type InputFile } from "../inputFiles.ts";
import { HUBSPOT_OBJECTS, hubspotObject, readHubspotCsv, type HubspotObject } from "./readCsv.ts";

export interface HubspotLandResult extends LandResult {
  table: string;
}

export interface HubspotLoadOptions {
  replace?: boolean;
  loadId?: string;
  /** The object every file holds, when their headers and names do not say. */
  object?: HubspotObject;
  onProgress?: (state: LoadProgress) => void;
  onWarning?: (message: string) => void;
}

export const HUBSPOT_TABLES = HUBSPOT_OBJECTS.map((object) => `hubspot_${object}`);

/**
 * Lands HubSpot CRM CSV exports (files, folders of them, or the zip HubSpot mails) into
 * `raw.hubspot_companies`, `raw.hubspot_contacts` and `raw.hubspot_deals`, one row per record
 * with the export's own column names, one ledger entry and one transaction per file. Which object a
 * file holds is read from its header (or its name, or `object`); a file that says neither is
 * recorded as failed, naming the columns it looked for. All three tables exist afterwards.
 */
export async function loadHubspot(db: Database, paths: string[], options: HubspotLoadOptions = {}): Promise<HubspotLandResult[]> {
  const input = await openInputFiles(paths, [".csv"]);
  try {
    for (const skipped of input.skipped) options.onWarning?.(`skipped ${skipped}`);
    await db.withConnection(async (connection) => {
      for (const table of HUBSPOT_TABLES) await ensureLandingTables(connection, table);
    });
    const landOptions = { replace: options.replace, loadId: options.loadId ?? newLoadId() };
    const progress: LoadProgress = { files: 0, totalFiles: input.files.length, bytes: 0, totalBytes: 0, rows: 0 };
    progress.totalBytes = input.files.reduce((n, f) => n + f.size, 0);
    const results: HubspotLandResult[] = [];
    for (const file of input.files) {
      const { table, doc } = await hubspotDocument(db, file, options.object);
      for (const result of await landDocuments(db, table, [doc], landOptions)) {
        results.push({ ...result, table });
        progress.rows += result.rowsLanded;
      }
      progress.files++;
      progress.bytes += file.size;
      options.onProgress?.(progress);
    }
    return results;
  } finally {
    input.close();
  }
}

async function hubspotDocument(db: Database, file: InputFile, forced?: HubspotObject): Promise<{ table: string; doc: SourceDocument }> {
  const base = { path: file.path, fileName: file.fileName, bytes: file.size, lines: 0, records: [] };
  // A file that cannot be read is recorded against the companies table: it has to be recorded somewhere to be retried.
  const failed = (sha256: string, failure: string, object: HubspotObject = forced ?? "companies") => ({
    table: `hubspot_${object}`,
    doc: { ...base, sha256, failure },
  });
  const content = await file.read();
  if ("failure" in content) return failed(`unread:${file.size}`, content.failure);
  let csv;
  try {
    csv = await db.withConnection((connection) => readHubspotCsv(connection, content.bytes, file.path));
  } catch (error) {
    return failed(content.sha256, messageOf(error));
  }
  const object = forced ?? hubspotObject(csv.header, file.fileName);
  if (object === undefined) {
    return failed(
      content.sha256,
      `cannot tell whether ${file.path} holds HubSpot companies, contacts or deals: its header (${csv.header.slice(0, 6).join(", ")}…) ` +
        `has none of "Deal Stage", "Email", "Company name", and its name none of company, contact, deal; pass --object`,
    );
  }
  const lines = content.bytes.toString("utf8").split("\n").length - (content.bytes.at(-1) === 0x0a ? 1 : 0);
  return { table: `hubspot_${object}`, doc: { ...base, sha256: content.sha256, lines, records: csv.records } };
}
