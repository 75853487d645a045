import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { unzipSync } from "fflate";
import { UserError, messageOf } from "../../runner/errors.ts";

/** One JSON file of a Slack export, named by its path inside the export (`general/2016-05-01.json`). */
export interface ExportFile {
  name: string;
  /** Where a user finds it: the file on disk, or `archive.zip!/general/2016-05-01.json`. */
  path: string;
  bytes: Uint8Array;
}

/** A Slack export whose JSON files are listed up front and read in batches, so memory follows the batch. */
export interface SlackExport {
  /** Names inside the export, sorted. */
  names: string[];
  /** Uncompressed bytes of a file, for a progress bar. */
  size(name: string): number;
  read(names: string[]): ExportFile[];
}

/**
 * Opens a Slack workspace export, its folder or straight from its zip (the archive is held in
 * memory, each batch decompressed on demand; nothing is unpacked to disk). Names are relative
 * to the folder that holds `users.json`/`channels.json`, so a zip that wraps everything in one
 * top folder reads the same as the bare export.
 */
export function openSlackExport(exportPath: string): SlackExport {
  const path = resolve(exportPath);
  if (!existsSync(path)) throw new UserError(`Slack export ${exportPath} does not exist`, { file: path });
  const source = statSync(path).isDirectory() ? folderSource(path) : zipSource(path);
  const root = exportRoot(source.names);
  if (root === undefined) {
    throw new UserError(`${exportPath} is not a Slack export: it has no users.json or channels.json`, { file: path });
  }
  const names = source.names
    .filter((n) => n.startsWith(root))
    .map((n) => n.slice(root.length))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    names,
    size: (name) => source.size(root + name),
    read: (wanted) =>
      source.read(wanted.map((n) => root + n)).map((f) => ({ ...f, name: f.name.slice(root.length) })),
  };
}

function folderSource(dir: string): SlackExport {
  const sizes = new Map<string, number>();
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith(".json")) sizes.set(relative(dir, full).split(sep).join("/"), statSync(full).size);
    }
  };
  walk(dir);
  return {
    names: [...sizes.keys()],
    size: (name) => sizes.get(name) ?? 0,
    read: (wanted) => wanted.map((name) => ({ name, path: join(dir, ...name.split("/")), bytes: readFileSync(join(dir, ...name.split("/"))) })),
  };
}

function zipSource(zipPath: string): SlackExport {
  const archive = readFileSync(zipPath);
  const unzip = (keep: (name: string) => boolean): Record<string, Uint8Array> => {
    try {
      return unzipSync(archive, { filter: (f) => keep(f.name) });
    } catch (error) {
      throw new UserError(`cannot read ${zipPath} as a zip archive: ${messageOf(error)}`, { file: zipPath });
    }
  };
  const sizes = new Map<string, number>();
  // Listing only: the filter sees every entry and decompresses none.
  unzipSync(archive, {
    filter: (f) => {
      if (f.name.endsWith(".json") && !f.name.startsWith("__MACOSX/")) sizes.set(f.name, f.originalSize);
      return false;
    },
  });
  return {
    names: [...sizes.keys()],
    size: (name) => sizes.get(name) ?? 0,
    read: (wanted) => {
      const set = new Set(wanted);
      const entries = unzip((name) => set.has(name));
      return wanted.map((name) => ({ name, path: `${zipPath}!/${name}`, bytes: entries[name]! }));
    },
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
