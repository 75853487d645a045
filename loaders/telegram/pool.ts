import { availableParallelism } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { SourceDocument } from "../land.ts";
import type { ExportSource } from "./discover.ts";
import { unpackDocument, type PackedDocument } from "./packed.ts";
import { parseSource } from "./source.ts";

// Sources queued per worker, so that it keeps parsing while the main thread is busy landing a batch
// and cannot hand out the next source at once.
const IN_FLIGHT = 16;

interface Answer {
  index: number;
  documents?: PackedDocument[];
  error?: string;
}

/**
 * Worker threads that parse sources (chat folders, result.json files). Open it early: the
 * workers' code is bundled first (~0.1 s), which can overlap finding the chats.
 * With 0 threads it parses on the calling thread.
 */
export class ParsePool {
  // A worker that fails while idle (say, while loading) has its error kept for the next parse.
  private failure: Error | undefined;

  private constructor(
    private readonly threads: number,
    private readonly workers: Promise<Worker[]>,
  ) {
    // Observed by parse() or close(); this keeps a failed bundle from counting as unhandled meanwhile.
    workers.catch(() => undefined);
  }

  /**
   * By default one worker per core but one: the calling thread lands what the workers parse, and
   * DuckDB works meanwhile. On two cores a second worker cost ~0.7 s more CPU for the same
   * corpus and no shorter wall time (bench/telegram.ts); on one core the calling thread parses.
   */
  static async open(threads = availableParallelism() - 1): Promise<ParsePool> {
    const count = Math.max(0, threads);
    const pool: ParsePool = new ParsePool(
      count,
      count === 0
        ? Promise.resolve([])
        : workerCode().then((code) =>
            Array.from({ length: count }, () => {
              const worker = spawnWorker(code);
              worker.on("error", (error) => (pool.failure ??= error));
              return worker;
            }),
          ),
    );
    return pool;
  }

  /** Parses every source, handing each one's documents to `onDocuments` in completion order. */
  async parse(sources: ExportSource[], timezone: string | undefined, onDocuments: (documents: SourceDocument[]) => void): Promise<void> {
    if (this.threads === 0) {
      for (const [i, source] of sources.entries()) {
        onDocuments(parseSource(source, timezone));
        // Let the landing of a batch handed over meanwhile go on in DuckDB's threads while this one parses.
        if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
      }
      return;
    }
    const workers = await this.workers;
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
        for (const worker of workers) {
          const onMessage = (answer: Answer) => {
            if (settled) return;
            if (answer.error !== undefined)
              return fail(new Error(`parsing ${describe(sources[answer.index]!)} failed in a worker: ${answer.error}`));
            try {
              onDocuments(answer.documents!.map(unpackDocument));
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
    const workers = await this.workers.catch(() => []);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function describe(source: ExportSource): string {
  return source.kind === "json" ? source.file.path : dirname(source.pages[0]!.path);
}

/**
 * The workers' code: their entry and what it imports (the parsers, htmlparser2), bundled by
 * esbuild into one script. Workers are TypeScript like the rest of the code, and neither tsx nor
 * vitest reaches into worker threads; a worker that registered tsx itself took ~0.3 s of CPU
 * to start (a loader thread of its own, each module through it), a bundled one takes ~0.05 s.
 */
async function workerCode(): Promise<string> {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./worker.ts", import.meta.url))],
    bundle: true,
    write: false,
    format: "cjs",
    platform: "node",
    target: "node20",
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

function spawnWorker(code: string): Worker {
  // A parse allocates a page's strings and drops them; a larger young generation keeps most of
  // that garbage out of the slower old-generation collections.
  return new Worker(code, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 64 } });
}
