/**
 * esbuild bundles of our TypeScript, kept in node_modules/.cache/duckform and built again whenever
 * a file one was built from changes, so that a checkout needs no build step and a bundle cannot be
 * stale. Two are kept: the CLI (runner/cli.ts), which bin/duckform.js starts from, and the Telegram
 * loader's parse worker, which loaders/telegram/pool.ts starts its threads from.
 *
 * A bundle's directory is named by a hash of the exact bytes esbuild read for it, of this file,
 * which holds the build options, and of the esbuild version, tsconfig.json and package.json. When
 * asked for, the hash is taken again over the files the last build read (`<name>.inputs.json`): if
 * every one still has the same content, the build from them reaches the same files and gives the
 * same bundle, and a changed or added import shows as a change in the file that holds it. Reading
 * and hashing the CLI's ~240 files takes ~10 ms.
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
// Old bundles are removed a day after they were built; a process still running from one may yet load its lazily imported chunks.
const KEEP_MS = 24 * 60 * 60 * 1000;
// Packages bundled into the CLI rather than imported by Node: @duckdb/node-api is ~100 CommonJS
// modules, and importing them through Node's ESM loader took ~0.3 s of CPU, bundled ~0.03 s. Its
// native binding stays a package of its own.
const BUNDLED_PACKAGES = new Set(["@duckdb/node-api"]);

const TARGETS = {
  cli: {
    entry: "runner/cli.ts",
    main: "cli.mjs",
    options: {
      // Each command's modules, and the packages they import, load when the command runs, as
      // `await import()` does from source; one file would import every package at start.
      splitting: true,
      format: "esm",
      outExtension: { ".js": ".mjs" },
      // What a bundled package's `require` needs in an ES module.
      banner: {
        js: 'import { createRequire as __duckformRequire } from "node:module"; const require = __duckformRequire(import.meta.url);',
      },
      sourcemap: "linked",
    },
    external: (path) => !BUNDLED_PACKAGES.has(packageName(path)),
  },
  // The worker and everything it imports (the parsers, htmlparser2) in one script: a worker that
  // registered tsx itself took ~0.3 s of CPU to start (a loader thread of its own, each module
  // through it), a bundled one ~0.05 s.
  "telegram-worker": {
    entry: "loaders/telegram/worker.ts",
    main: "worker.cjs",
    options: { format: "cjs", outExtension: { ".js": ".cjs" } },
    external: () => false,
  },
};

/**
 * A fresh bundle of target `name`: its main file, or where the cache cannot be written (a
 * read-only install), null for the CLI and the code itself for the worker, built in memory.
 */
export async function freshBundle(name) {
  const target = TARGETS[name];
  const fresh = existingBundle(name, target);
  if (fresh) return { file: fresh };
  try {
    mkdirSync(CACHE, { recursive: true });
    return { file: await build(name, target) };
  } catch (error) {
    if (!["EACCES", "EPERM", "EROFS"].includes(error.code)) throw error;
    if (name === "cli") return null;
    const { outputFiles } = await runEsbuild(target, new Map());
    return { code: outputFiles.find((f) => f.path.endsWith(target.main)).text };
  }
}

function existingBundle(name, target) {
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(join(CACHE, `${name}.inputs.json`), "utf8"));
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
  const main = join(bundleDir(name, contents), target.main);
  try {
    statSync(main);
  } catch {
    return null;
  }
  return main;
}

async function build(name, target) {
  const contents = new Map();
  const result = await runEsbuild(target, contents);
  const dir = bundleDir(name, contents);
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
  const inputs = join(CACHE, `${name}.inputs.json`);
  writeFileSync(`${inputs}.${process.pid}.tmp`, JSON.stringify([...contents.keys()]));
  renameSync(`${inputs}.${process.pid}.tmp`, inputs);
  prune(name, dir);
  return join(dir, target.main);
}

async function runEsbuild(target, contents) {
  const esbuild = await import("esbuild");
  return esbuild.build({
    entryPoints: [join(ROOT, target.entry)],
    bundle: true,
    platform: "node",
    target: "node20",
    // Written to the bundle's own directory later, at the same depth, so the source maps' relative paths hold.
    outdir: join(CACHE, "build"),
    write: false,
    logLevel: "silent",
    ...target.options,
    plugins: [sources(contents, target.external)],
  });
}

/**
 * Reads every file for esbuild, keeping its bytes for the hash, and leaves the packages that are
 * not bundled to Node. `import.meta.url` and `dirname` become the source file's own, as they are
 * when run from source: report/page.ts finds its app beside itself.
 */
function sources(contents, external) {
  const loaders = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".js": "js", ".mjs": "js", ".cjs": "js", ".json": "json" };
  return {
    name: "duckform-sources",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, ({ path }) =>
        path.startsWith("node:") || external(path) ? { path, external: true } : undefined,
      );
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

function packageName(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function bundleDir(name, contents) {
  const hash = createHash("sha256").update(name).update("\0");
  const esbuildPackage = join(ROOT, "node_modules/esbuild/package.json");
  for (const path of [import.meta.filename, esbuildPackage, join(ROOT, "tsconfig.json"), join(ROOT, "package.json")]) {
    hash.update(readFileSync(path)).update("\0");
  }
  for (const [path, bytes] of [...contents].sort(([a], [b]) => (a < b ? -1 : 1))) hash.update(path).update("\0").update(bytes).update("\0");
  return join(CACHE, `${name}-${hash.digest("hex").slice(0, 20)}`);
}

function prune(name, keep) {
  for (const entry of readdirSync(CACHE)) {
    const path = join(CACHE, entry);
    if (path === keep || !entry.startsWith(`${name}-`)) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}
