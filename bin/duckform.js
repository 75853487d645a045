#!/usr/bin/env node
// The CLI is TypeScript. It runs from an esbuild bundle that bin/bundle.js keeps fresh, so a
// checkout needs no build step: started through tsx instead, `duckform --help` took ~0.7 s of CPU
// (a loader thread, each module transformed as it loads, their source maps read), from the bundle
// ~0.2 s. A read-only install, whose bundle cannot be cached, runs the same source through tsx.
import { pathToFileURL } from "node:url";
import { freshBundle } from "./bundle.js";

const bundle = await freshBundle("cli");
if (bundle) {
  // Stack traces name the TypeScript files, as they do from source.
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(bundle.file).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../runner/cli.ts");
}
