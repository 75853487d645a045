import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { SourceDocument } from "../land.ts";
import type { ExportSource } from "./discover.ts";
import { parseSource } from "./source.ts";

/** One worker per core; 0 parses on the calling thread. */
export function defaultThreads(): number {
  return availableParallelism();
}

/**
 * Parses sources on `threads` worker threads, handing each source's documents to
 * `onDocuments` as soon as they arrive (in completion order, not input order).
 */
export async function parseInWorkers(
  sources: ExportSource[],
  timezone: string | undefined,
  threads: number,
  onDocuments: (documents: SourceDocument[]) => void,
): Promise<void> {
  if (threads <= 0 || sources.length === 0) {
    for (const source of sources) onDocuments(await parseSource(source, timezone));
    return;
  }
  const pool: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let done = 0;
      let settled = false;
      const fail = (error: Error) => {
        if (!settled) (settled = true), reject(error);
      };
      const feed = (worker: Worker) => {
        if (next < sources.length) worker.postMessage({ index: next, source: sources[next++], timezone });
      };
      for (let i = 0; i < Math.min(threads, sources.length); i++) {
        const worker = spawnWorker();
        pool.push(worker);
        worker.on("message", (answer: { index: number; documents?: SourceDocument[]; error?: string }) => {
          if (answer.error !== undefined) return fail(new Error(`parsing ${describe(sources[answer.index]!)} failed in a worker: ${answer.error}`));
          try {
            onDocuments(answer.documents!);
          } catch (error) {
            return fail(error as Error);
          }
          if (++done === sources.length) {
            settled = true;
            resolve();
          } else {
            feed(worker);
          }
        });
        worker.on("error", fail);
        worker.on("exit", (code) => fail(new Error(`a parse worker exited with code ${code}`)));
        feed(worker);
      }
    });
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

function describe(source: ExportSource): string {
  return source.kind === "json" ? source.file.path : dirname(source.pages[0]!.path);
}

/**
 * Workers are TypeScript like the rest of the code, whether the CLI runs through tsx or tests
 * through vitest, neither of which reaches into worker threads: each worker registers tsx's
 * loader itself before importing its entry. (`execArgv: ["--import", "tsx"]` is not enough on
 * Node 20, which loads a worker's entry before that import's hooks are in place.)
 */
function spawnWorker(): Worker {
  const entry = new URL("./worker.ts", import.meta.url).href;
  const code = `import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true });
}

function tsxApi(): string {
  // vitest's transform leaves out import.meta.resolve; then find tsx's ESM API by its layout.
  if (typeof import.meta.resolve === "function") return import.meta.resolve("tsx/esm/api");
  const pkg = createRequire(import.meta.url).resolve("tsx/package.json");
  return pathToFileURL(join(dirname(pkg), "dist/esm/api/index.mjs")).href;
}
