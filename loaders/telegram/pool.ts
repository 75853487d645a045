import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { SourceDocument } from "../land.ts";
import type { ExportSource } from "./discover.ts";
import { parseSource } from "./source.ts";

// Sources queued per worker, so that it keeps parsing while the main thread is busy landing a batch
// and cannot hand out the next source at once.
const IN_FLIGHT = 16;

interface Answer {
  index: number;
  documents?: SourceDocument[];
  error?: string;
}

/**
 * Worker threads that parse sources (chat folders, result.json files). Open it early: a worker
 * takes a few hundred milliseconds to load the parser, which can overlap finding the chats.
 * With 0 threads it parses on the calling thread.
 */
export class ParsePool {
  // A worker that fails while idle (say, while loading) has its error kept for the next parse.
  private failure: Error | undefined;

  private constructor(private readonly workers: Worker[]) {
    for (const worker of workers) worker.on("error", (error) => (this.failure ??= error));
  }

  static async open(threads = availableParallelism()): Promise<ParsePool> {
    return new ParsePool(Array.from({ length: Math.max(0, threads) }, spawnWorker));
  }

  /** Parses every source, handing each one's documents to `onDocuments` in completion order. */
  async parse(sources: ExportSource[], timezone: string | undefined, onDocuments: (documents: SourceDocument[]) => void): Promise<void> {
    if (this.workers.length === 0) {
      for (const source of sources) onDocuments(parseSource(source, timezone));
      return;
    }
    if (this.failure) throw this.failure;
    if (sources.length === 0) return;
    const listeners: (() => void)[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        let next = 0;
        let done = 0;
        let settled = false;
        const fail = (error: Error) => {
          if (settled) return;
          settled = true;
          reject(error);
        };
        const feed = (worker: Worker) => {
          if (next < sources.length) worker.postMessage({ index: next, source: sources[next++], timezone });
        };
        for (const worker of this.workers) {
          const onMessage = (answer: Answer) => {
            if (settled) return;
            if (answer.error !== undefined)
              return fail(new Error(`parsing ${describe(sources[answer.index]!)} failed in a worker: ${answer.error}`));
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
          };
          const onExit = (code: number) => fail(new Error(`a parse worker exited with code ${code}`));
          worker.on("message", onMessage).on("error", fail).on("exit", onExit);
          listeners.push(() => worker.off("message", onMessage).off("error", fail).off("exit", onExit));
          for (let k = 0; k < IN_FLIGHT; k++) feed(worker);
        }
      });
    } finally {
      for (const remove of listeners) remove();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
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
  // cheerio is plain JavaScript: loaded before tsx's hooks are in place, its ~60 modules skip
  // them, which takes a third off a worker's start.
  const preload =
    typeof import.meta.resolve === "function" ? `import(${JSON.stringify(import.meta.resolve("cheerio/slim"))})` : "Promise.resolve()";
  const code =
    `${preload}.then(() => import(${JSON.stringify(tsxApi())}))` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  // A parse allocates a whole page's DOM and drops it; a larger young generation keeps most of
  // that garbage out of the slower old-generation collections.
  return new Worker(code, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 64 } });
}

function tsxApi(): string {
  // vitest's transform leaves out import.meta.resolve; then find tsx's ESM API by its layout.
  if (typeof import.meta.resolve === "function") return import.meta.resolve("tsx/esm/api");
  const pkg = createRequire(import.meta.url).resolve("tsx/package.json");
  return pathToFileURL(join(dirname(pkg), "dist/esm/api/index.mjs")).href;
}
