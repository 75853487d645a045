import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import yauzl from "yauzl";
import { UserError, messageOf } from "../../runner/errors.ts";
import { formatSize } from "../size.ts";

/**
 * One JSON file of a Slack export, named by its path inside the export (`general/2016-05-01.json`),
 * with its bytes, or why they could not be read (over a size limit, corrupt compressed data).
 */
export interface ExportFile {
  name: string;
  /** Where a user finds it: the file on disk, or `archive.zip!/general/2016-05-01.json`. */
  path: string;
  bytes?: Uint8Array;
  /** Set when `bytes` is missing: what stopped the read. */
  unreadable?: string;
  /** Identity of the unread content for the ledger (the zip's CRC and size, or the file's size and time). */
  fingerprint?: string;
}

/** How much an export may inflate to: per entry (a JSON file becomes one string) and in all. */
export interface ExportLimits {
  maxEntryBytes: number;
  maxArchiveBytes: number;
}

/**
 * An entry is read into one string to parse it, and V8 strings stop near 512 MB; a day file or
 * users.json past 256 MB is a bomb or a broken export, not data.
 */
export const DEFAULT_LIMITS: ExportLimits = { maxEntryBytes: 256 * 2 ** 20, maxArchiveBytes: 16 * 2 ** 30 };

/** A Slack export whose JSON files are listed up front and read in batches, so memory follows the batch. */
export interface SlackExport {
  /** Names inside the export, sorted. */
  names: string[];
  /** Uncompressed bytes of a file, as its directory says, for batching and a progress bar. */
  size(name: string): number;
  read(names: string[]): Promise<ExportFile[]>;
  /** Entries left out, with why (a path that leaves the archive). */
  skipped: string[];
  close(): void;
}

interface Source {
  names: string[];
  size(name: string): number;
  read(name: string): Promise<ExportFile>;
  skipped: string[];
  close(): void;
}

/**
 * Opens a Slack workspace export, its folder or straight from its zip. The zip is read through
 * its central directory and each entry inflated as a stream, counted against the limits as it
 * goes: a 1 MB zip that inflates to 1 GiB stops at the limit, not in memory. Names are relative
 * to the folder that holds `users.json`/`channels.json`, so a zip that wraps everything in one
 * top folder reads the same as the bare export.
 */
export async function openSlackExport(exportPath: string, limits: ExportLimits = DEFAULT_LIMITS): Promise<SlackExport> {
  const path = resolve(exportPath);
  if (!existsSync(path)) throw new UserError(`Slack export ${exportPath} does not exist`);
  const isFolder = statSync(path).isDirectory();
  const source = isFolder ? folderSource(path, limits) : await zipSource(path, limits);
  const root = exportRoot(source.names);
  if (root === undefined) {
    source.close();
    throw new UserError(`${exportPath} is not a Slack export: it has no users.json or channels.json`);
  }
  const names = source.names
    .filter((n) => n.startsWith(root))
    .map((n) => n.slice(root.length))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let inflated = 0;
  return {
    names,
    size: (name) => source.size(root + name),
    read: async (wanted) => {
      const files: ExportFile[] = [];
      for (const name of wanted) {
        const size = source.size(root + name);
        const file =
          inflated + size > limits.maxArchiveBytes
            ? {
                name: root + name,
                path: isFolder ? join(path, ...(root + name).split("/")) : `${path}!/${root + name}`,
                unreadable: `the export inflates past the ${formatSize(limits.maxArchiveBytes)} limit for one archive (--max-archive-size) before this entry`,
              }
            : await source.read(root + name);
        inflated += file.bytes?.byteLength ?? 0;
        files.push({ ...file, name });
      }
      return files;
    },
    skipped: source.skipped,
    close: () => source.close(),
  };
}

function tooLarge(size: number, limits: ExportLimits): string {
  return `it inflates to ${size.toLocaleString("en")} bytes (${formatSize(size)}), over the ${formatSize(limits.maxEntryBytes)} limit for one file (--max-entry-size)`;
}

function folderSource(dir: string, limits: ExportLimits): Source {
  const stats = new Map<string, { size: number; mtimeMs: number }>();
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith(".json")) stats.set(relative(dir, full).split(sep).join("/"), statSync(full));
    }
  };
  walk(dir);
  return {
    names: [...stats.keys()],
    size: (name) => stats.get(name)?.size ?? 0,
    read: async (name) => {
      const path = join(dir, ...name.split("/"));
      const { size, mtimeMs } = stats.get(name)!;
      if (size > limits.maxEntryBytes) return { name, path, unreadable: tooLarge(size, limits), fingerprint: `${size}:${mtimeMs}` };
      return { name, path, bytes: readFileSync(path) };
    },
    skipped: [],
    close: () => {},
  };
}

async function zipSource(zipPath: string, limits: ExportLimits): Promise<Source> {
  const unreadableZip = (error: unknown) => new UserError(`cannot read ${zipPath} as a zip archive: ${messageOf(error)}`);
  let zip: yauzl.ZipFile;
  try {
    // Names are decoded and checked here, not by yauzl, which would abort the whole archive on one bad name.
    zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
  } catch (error) {
    throw unreadableZip(error);
  }
  const entries = new Map<string, yauzl.Entry>();
  const skipped: string[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
      const problem = yauzl.validateFileName(name);
      if (problem !== null) skipped.push(`${zipPath}!/${name}: ${problem}; left out`);
      else if (name.endsWith(".json") && !name.startsWith("__MACOSX/")) entries.set(name, entry);
    }
  } catch (error) {
    zip.close();
    throw unreadableZip(error);
  }
  return {
    names: [...entries.keys()],
    size: (name) => entries.get(name)?.uncompressedSize ?? 0,
    read: async (name) => {
      const entry = entries.get(name)!;
      const path = `${zipPath}!/${name}`;
      const fingerprint = `${entry.crc32}:${entry.uncompressedSize}`;
      if (entry.uncompressedSize > limits.maxEntryBytes)
        return { name, path, unreadable: tooLarge(entry.uncompressedSize, limits), fingerprint };
      try {
        // validateEntrySizes makes the stream fail if an entry inflates past the size its header declares.
        const chunks: Buffer[] = [];
        for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
        return { name, path, bytes: Buffer.concat(chunks) };
      } catch (error) {
        return { name, path, unreadable: `cannot inflate it: ${messageOf(error)}`, fingerprint };
      }
    },
    skipped,
    close: () => zip.close(),
  };
}

/** The shallowest folder prefix ("" or "Workspace export/") holding users.json or channels.json. */
function exportRoot(names: string[]): string | undefined {
  let best: string | undefined;
  for (const name of names) {
    const match = /^(.*?)(users|channels)\.json$/.exec(name);
    if (!match || (match[1] !== "" && !match[1]!.endsWith("/"))) continue;
    if (best === undefined || match[1]!.length < best.length) best = match[1]!;
  }
  return best;
}
