/**
 * The CLI as an esbuild bundle of runner/cli.ts, kept in node_modules/.cache/duckform and built
 * again whenever a file it was built from changes, so that a checkout needs no build step and the
 * bundle cannot be stale.
 *
 * A bundle's directory is named by a hash of the exact bytes esbuild read for it (our TypeScript;
 * packages stay external and are loaded by Node as they are), of this file, which holds the build
 * options, and of the esbuild version, tsconfig.json and package.json. At start the hash is taken
 * again over the files the last build read (`cli.inputs.json`): if every one still has the same
 * content, the build from them reaches the same files and gives the same bundle, and a changed or
 * added import shows as a change in the file that holds it. Reading and hashing those ~140 files
 * takes ~10 ms.
 *
 * A build is written to a temporary directory and renamed into place, so a process that is killed,
 * or two that build at once, leave either no bundle or a whole one.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = resolve(import.meta.dirname, "..");
const CACHE = join(ROOT, "node_modules/.cache/duckform");
const ENTRY = "runner/cli.ts";
const INPUTS = join(CACHE, "cli.inputs.json");
// Old bundles are removed a day after they were built; a process still running from one may yet load its lazily imported chunks.
const KEEP_MS = 24 * 60 * 60 * 1000;

/** The bundle's entry file, fresh; null when the cache cannot be written (a read-only install). */
export async function freshBundle() {
  const fresh = existingBundle();
  if (fresh) return fresh;
  try {
    mkdirSync(CACHE, { recursive: true });
    return await build();
  } catch (error) {
    if (["EACCES", "EPERM", "EROFS"].includes(error.code)) return null;
    throw error;
  }
}

function existingBundle() {
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(INPUTS, "utf8"));
  } catch {
    return null;
  }
  const contents = new Map();
  for (const path of inputs) {
    try {
      contents.set(path, readFileSync(join(ROOT, path)));
    } catch {
      return null;
    }
  }
  const entry = join(bundleDir(contents), "cli.mjs");
  try {
    statSync(entry);
  } catch {
    return null;
  }
  return entry;
}

async function build() {
  const esbuild = await import("esbuild");
  const contents = new Map();
  const result = await esbuild.build({
    entryPoints: [join(ROOT, ENTRY)],
    bundle: true,
    // Each command's modules, and the packages they import, load when the command runs, as
    // `await import()` does from source; one file would import every package at start.
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    sourcemap: "linked",
    // Written to the bundle's own directory below, at the same depth, so the source maps' relative paths hold.
    outdir: join(CACHE, "build"),
    outExtension: { ".js": ".mjs" },
    write: false,
    logLevel: "silent",
    plugins: [recordSources(contents)],
  });
  const dir = bundleDir(contents);
  const temporary = `${dir}.${process.pid}.tmp`;
  rmSync(temporary, { recursive: true, force: true });
  for (const file of result.outputFiles) {
    const path = join(temporary, relative(join(CACHE, "build"), file.path));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.contents);
  }
  try {
    renameSync(temporary, dir);
  } catch (error) {
    // Another process built the same bundle meanwhile: its copy is as good as this one.
    rmSync(temporary, { recursive: true, force: true });
    if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
  }
  writeFileSync(`${INPUTS}.${process.pid}.tmp`, JSON.stringify([...contents.keys()]));
  renameSync(`${INPUTS}.${process.pid}.tmp`, INPUTS);
  prune(dir);
  return join(dir, "cli.mjs");
}

/**
 * Reads every file for esbuild, keeping its bytes for the hash. `import.meta.url` and `dirname`
 * become the source file's own, as they are when run from source: report/page.ts finds its app
 * beside itself, and the Telegram loader bundles its worker from its source.
 */
function recordSources(contents) {
  const loaders = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".js": "js", ".mjs": "js", ".cjs": "js", ".json": "json" };
  return {
    name: "record-sources",
    setup(build) {
      build.onLoad({ filter: /.*/ }, ({ path }) => {
        const bytes = readFileSync(path);
        contents.set(relative(ROOT, path).split(sep).join("/"), bytes);
        const loader = loaders[extname(path)];
        if (!loader) return undefined;
        const text = bytes
          .toString("utf8")
          .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(path).href))
          .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(path)))
          .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(path));
        return { contents: text, loader };
      });
    },
  };
}

function bundleDir(contents) {
  const hash = createHash("sha256");
  const esbuildPackage = join(ROOT, "node_modules/esbuild/package.json");
  for (const path of [import.meta.filename, esbuildPackage, join(ROOT, "tsconfig.json"), join(ROOT, "package.json")]) {
    hash.update(readFileSync(path)).update("\0");
  }
  for (const [path, bytes] of [...contents].sort(([a], [b]) => (a < b ? -1 : 1))) hash.update(path).update("\0").update(bytes).update("\0");
  return join(CACHE, `cli-${hash.digest("hex").slice(0, 20)}`);
}

function prune(keep) {
  for (const name of readdirSync(CACHE)) {
    const path = join(CACHE, name);
    if (path === keep || !name.startsWith("cli-")) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}
