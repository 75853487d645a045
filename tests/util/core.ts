import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const ourCore = dirname(createRequire(import.meta.url).resolve("@dataform/core/package.json"));

/**
 * Puts a `@dataform/core` that reports `version` into `<cacheDir>/<version>`, laid out as
 * duckform's core cache is after an npm install: our installed core with its version string
 * changed, so a test of a pinned version needs no network.
 */
export function prepareCoreCache(cacheDir: string, version: string): string {
  const dir = join(cacheDir, version, "node_modules", "@dataform", "core");
  cpSync(ourCore, dir, { recursive: true });
  const ours = (JSON.parse(readFileSync(join(ourCore, "package.json"), "utf8")) as { version: string }).version;
  const bundle = readFileSync(join(dir, "bundle.js"), "utf8");
  if (!bundle.includes(`.version="${ours}"`)) throw new Error(`cannot find core's version string in ${dir}/bundle.js`);
  writeFileSync(join(dir, "bundle.js"), bundle.replace(`.version="${ours}"`, `.version="${version}"`));
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string };
  writeFileSync(join(dir, "package.json"), JSON.stringify({ ...pkg, version }, null, 2));
  return dir;
}
