import { readdirSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { UserError } from "../../runner/errors.ts";

/** One file to land: its path and its name in the ledger. */
export interface ExportFile {
  path: string;
  fileName: string;
}

/** A unit of parsing work: one chat folder of HTML pages, or one result.json. */
export type ExportSource = { kind: "html"; pages: ExportFile[] } | { kind: "json"; file: ExportFile };

const PAGE = /^messages(\d*)\.html$/;

/**
 * Finds the chats under each export directory: the directory itself when it is one chat's
 * export, or every chat folder below it (`chats/chat_001/`, …) in a whole-account export.
 * A folder holding `result.json` is a JSON export and its HTML, if it also has some, is not
 * read again. Pages come in the exporter's order: messages.html, messages2.html, …, messages10.html.
 *
 * A file's ledger name is its path below the export directory, prefixed with that directory's
 * own name (`DataExport_2024-01-05/chats/chat_001/messages.html`). It says where the file was
 * found, not which chat it holds: the ledger knows chat files by their content, and a chat by
 * what its export says (see README, "Chat identity").
 *
 * The listing is synchronous on purpose: nothing can be parsed before it is done, and listing the
 * bench's 4,000 chat folders concurrently through the promise API took ~0.3 s of CPU, one after
 * another ~0.1 s.
 */
export async function discoverExports(dirs: string[]): Promise<ExportSource[]> {
  const sources: ExportSource[] = [];
  for (const given of dirs) {
    const path = resolve(given);
    const info = statOrNull(path);
    if (!info) throw new UserError(`no such export directory: ${given}`);
    const found: ExportSource[] = [];
    if (info.isFile()) {
      if (!path.endsWith(".json")) throw new UserError(`${given} is neither an export directory nor a result.json`);
      found.push({ kind: "json", file: exportFile(dirname(path), path) });
    } else {
      walk(path, path, found);
    }
    if (found.length === 0) throw new UserError(`no Telegram export in ${given}: found no messages.html or result.json`);
    sources.push(...found);
  }
  return sources;
}

function walk(root: string, dir: string, found: ExportSource[]): void {
  const entries = readdirSync(dir, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && e.name === "result.json")) {
    found.push({ kind: "json", file: exportFile(root, join(dir, "result.json")) });
    return;
  }
  const pages = entries
    .filter((e) => e.isFile() && PAGE.test(e.name))
    .map((e) => ({ name: e.name, index: Number(PAGE.exec(e.name)![1] || "1") }))
    .sort((a, b) => a.index - b.index);
  if (pages.length > 0) {
    // Media folders (photos/, files/) sit inside chat folders: nothing more to find there.
    found.push({ kind: "html", pages: pages.map((p) => exportFile(root, join(dir, p.name))) });
    return;
  }
  const subdirs = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort(naturalCompare);
  for (const name of subdirs) walk(root, join(dir, name), found);
}

function statOrNull(path: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function exportFile(root: string, path: string): ExportFile {
  return { path, fileName: ledgerName(root, path) };
}

function ledgerName(root: string, path: string): string {
  return [basename(root), ...relative(root, path).split(sep)].filter(Boolean).join("/");
}

// chat_2 before chat_10; one collator, since localeCompare with options builds one per call.
const naturalCompare = new Intl.Collator("en", { numeric: true }).compare;
