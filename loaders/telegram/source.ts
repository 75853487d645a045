import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { SourceDocument, SourceRecord } from "../land.ts";
import type { ExportFile, ExportSource } from "./discover.ts";
import { parseHtmlPage } from "./html.ts";
import { parseJsonExport } from "./json.ts";
import { timezoneConverter } from "./timezone.ts";

/** Reads and parses one chat folder or result.json into one document per file. */
export async function parseSource(source: ExportSource, timezone: string | undefined): Promise<SourceDocument[]> {
  const wallClock = timezoneConverter(timezone);
  if (source.kind === "json") {
    const { text, document } = await readDocument(source.file);
    return [{ ...document, records: parseJsonExport(text, wallClock) }];
  }
  const documents: SourceDocument[] = [];
  for (const page of source.pages) {
    const { text, document } = await readDocument(page);
    documents.push({ ...document, records: parseHtmlPage(text, { chatId: source.chatId, wallClock }).records });
  }
  return documents;
}

async function readDocument(file: ExportFile): Promise<{ text: string; document: Omit<SourceDocument, "records"> & { records: SourceRecord[] } }> {
  const bytes = await readFile(file.path);
  let lines = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) lines++;
  if (bytes.length > 0 && bytes[bytes.length - 1] !== 10) lines++;
  return {
    text: bytes.toString("utf8"),
    document: {
      path: file.path,
      fileName: file.fileName,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      bytes: bytes.length,
      lines,
      records: [],
    },
  };
}
