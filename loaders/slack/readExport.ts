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

/**
 * The JSON files of a Slack workspace export, from its folder or straight from its zip (read
 * into memory; nothing is unpacked to disk). Names are relative to the folder that holds
 * `users.json`/`channels.json`, so a zip that wraps everything in one top folder reads the same
 * as the bare export.
 */
export function readSlackExport(exportPath: string): ExportFile[] {
  const path = resolve(exportPath);
  if (!existsSync(path)) throw new UserError(`Slack export ${exportPath} does not exist`, { file: path });
  const files = statSync(path).isDirectory() ? readFolder(path) : readZip(path);
  const root = exportRoot(files.map((f) => f.name));
  if (root === undefined) {
    throw new UserError(`${exportPath} is not a Slack export: it has no users.json or channels.json`, { file: path });
  }
  return files
    .filter((f) => f.name.startsWith(root))
    .map((f) => ({ ...f, name: f.name.slice(root.length) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function readFolder(dir: string): ExportFile[] {
  const out: ExportFile[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith(".json")) {
        out.push({ name: relative(dir, full).split(sep).join("/"), path: full, bytes: readFileSync(full) });
      }
    }
  };
  walk(dir);
  return out;
}

function readZip(zipPath: string): ExportFile[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(readFileSync(zipPath), { filter: (f) => f.name.endsWith(".json") && !f.name.startsWith("__MACOSX/") });
  } catch (error) {
    throw new UserError(`cannot read ${zipPath} as a zip archive: ${messageOf(error)}`, { file: zipPath });
  }
  return Object.entries(entries).map(([name, bytes]) => ({ name, path: `${zipPath}!/${name}`, bytes }));
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
