import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join, relative, resolve, sep } from "node:path";
import yauzl from "yauzl";
import { UserError, messageOf } from "../runner/errors.ts";
import { formatSize } from "./size.ts";

/** One input file of an export, found on disk or inside a zip, read when its batch lands. */
export interface InputFile {
  /** Its identity in the ledger: the file's name, its path under a folder argument, or `export.zip!/entry`. */
  fileName: string;
  /** Where a user finds it: the file on disk, or `/abs/export.zip!/entry`. */
  path: string;
  /** Bytes as the folder or the zip's central directory says, for batching and progress. */
  size: number;
  /** The content, or why it could not be read (over the size limit, corrupt compressed data). */
  read(): Promise<{ bytes: Buffer; sha256: string } | { failure: string }>;
}

export interface InputFiles {
  files: InputFile[];
  /** Zip entries left out, with why (a path that leaves the archive). */
  skipped: string[];
  close(): void;
}

/** A file is read into one string to parse it; V8 strings stop near 512 MB. */
export const MAX_INPUT_BYTES = 256 * 2 ** 20;

/**
 * The files with one of `extensions` (lowercase, with the dot) that `paths` name: a file as it
 * is, a folder walked for them (and for zips), a zip (by its `.zip` name) read through its central directory and
 * inflated entry by entry when read, never whole. A path that does not exist is a UserError
 * naming it; a zip that cannot be opened is one too.
 */
export async function openInputFiles(paths: string[], extensions: string[], maxBytes = MAX_INPUT_BYTES): Promise<InputFiles> {
  const out: InputFiles = { files: [], skipped: [], close: () => {} };
  const zips: yauzl.ZipFile[] = [];
  out.close = () => {
    for (const zip of zips) zip.close();
  };
  const wanted = (name: string) => extensions.some((ext) => name.toLowerCase().endsWith(ext));
  try {
    for (const given of paths) {
      const path = resolve(given);
      if (!existsSync(path)) throw new UserError(`${given} does not exist`);
      const isZip = (p: string) => p.toLowerCase().endsWith(".zip");
      const addZip = async (zipPath: string) => {
        const zip = await openZip(zipPath);
        zips.push(zip);
        out.files.push(...(await zipEntries(zip, zipPath, wanted, maxBytes, out.skipped)));
      };
      if (statSync(path).isDirectory()) {
        // An export downloaded into a folder is often still its zip (Google Calendar's is): read it too.
        for (const file of walk(path)) {
          if (wanted(file)) out.files.push(diskFile(file, relative(path, file).split(sep).join("/"), maxBytes));
          else if (isZip(file)) await addZip(file);
        }
      } else if (isZip(path)) {
        await addZip(path);
      } else {
        out.files.push(diskFile(path, basename(path), maxBytes));
      }
    }
  } catch (error) {
    out.close();
    throw error;
  }
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function diskFile(path: string, fileName: string, maxBytes: number): InputFile {
  const size = statSync(path).size;
  return {
    fileName,
    path,
    size,
    read: async () => {
      if (size > maxBytes) return { failure: `${path} is ${formatSize(size)}, over the ${formatSize(maxBytes)} limit for one file` };
      try {
        const bytes = readFileSync(path);
        return { bytes, sha256: sha256(bytes) };
      } catch (error) {
        return { failure: `cannot read ${path}: ${messageOf(error)}` };
      }
    },
  };
}

async function openZip(path: string): Promise<yauzl.ZipFile> {
  try {
    return await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
  } catch (error) {
    throw new UserError(`cannot read ${path} as a zip archive: ${messageOf(error)}`);
  }
}

async function zipEntries(
  zip: yauzl.ZipFile,
  zipPath: string,
  wanted: (name: string) => boolean,
  maxBytes: number,
  skipped: string[],
): Promise<InputFile[]> {
  const files: InputFile[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
      const problem = yauzl.validateFileName(name);
      if (problem !== null) skipped.push(`${zipPath}!/${name}: ${problem}; left out`);
      else if (wanted(name) && !name.startsWith("__MACOSX/")) files.push(zipFile(zip, entry, zipPath, name, maxBytes));
    }
  } catch (error) {
    throw new UserError(`cannot read ${zipPath} as a zip archive: ${messageOf(error)}`);
  }
  return files.sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
}

function zipFile(zip: yauzl.ZipFile, entry: yauzl.Entry, zipPath: string, name: string, maxBytes: number): InputFile {
  const path = `${zipPath}!/${name}`;
  return {
    // The zip's own name is part of the identity: each export of a calendar is a new snapshot.
    fileName: `${basename(zipPath)}!/${name}`,
    path,
    size: entry.uncompressedSize,
    read: async () => {
      if (entry.uncompressedSize > maxBytes) {
        return {
          failure: `${path} inflates to ${formatSize(entry.uncompressedSize)}, over the ${formatSize(maxBytes)} limit for one file`,
        };
      }
      try {
        // validateEntrySizes makes the stream fail if an entry inflates past the size its header declares.
        const chunks: Buffer[] = [];
        for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
        const bytes = Buffer.concat(chunks);
        return { bytes, sha256: sha256(bytes) };
      } catch (error) {
        return { failure: `cannot inflate ${path}: ${messageOf(error)}` };
      }
    },
  };
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
