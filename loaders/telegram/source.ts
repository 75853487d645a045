import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { SourceDocument } from "../land.ts";
import type { ExportFile, ExportSource } from "./discover.ts";
import { parseHtmlPage } from "./html.ts";
import { parseJsonExport } from "./json.ts";
import { timezoneConverter, type WallClockToUtc } from "./timezone.ts";

// One converter per zone and thread: an IANA zone's holds an Intl.DateTimeFormat, slow to build.
const converters = new Map<string, WallClockToUtc>();

/** Reads and parses one chat folder or result.json into one document per file. */
export function parseSource(source: ExportSource, timezone: string | undefined): SourceDocument[] {
  const zone = timezone ?? "UTC";
  let wallClock = converters.get(zone);
  if (!wallClock) converters.set(zone, (wallClock = timezoneConverter(zone)));
  if (source.kind === "json") {
    const { text, document } = readDocument(source.file);
    return [{ ...document, records: parseJsonExport(text, wallClock) }];
  }
  const documents: SourceDocument[] = [];
  for (const page of source.pages) {
    const { text, document } = readDocument(page);
    documents.push({ ...document, records: parseHtmlPage(text, { chatId: null, wallClock }).records });
  }
  return documents;
}

function readDocument(file: ExportFile): { text: string; document: SourceDocument } {
  // Synchronous on purpose: this runs on a parse worker with nothing else to do meanwhile, and
  // the promise API's open/stat/read/close round trips cost more than the parse of a small page.
  const bytes = readFileSync(file.path);
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
