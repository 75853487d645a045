import { availableParallelism } from "node:os";
import { dirname } from "node:path";
import { Worker } from "node:worker_threads";
import { freshBundle } from "../../bin/bundle.js";
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
 * workers start meanwhile, and their code may need bundling first (~0.1 s). They run an esbuild
 * bundle of worker.ts (bin/bundle.js), as neither tsx nor vitest reaches into worker threads.
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
   * By default one worker per core. Parsing is most of a load's work and the calling thread's share
   * (handing batches to DuckDB) is small: with one worker on two cores, the worker was the whole
   * critical path and the calling thread sat idle for most of the load (cpu profiles of the bench).
   */
  static async open(threads = availableParallelism()): Promise<ParsePool> {
    const count = Math.max(0, threads);
    const pool: ParsePool = new ParsePool(
      count,
      count === 0
        ? Promise.resolve([])
        : freshBundle("telegram-worker").then((bundle) =>
            Array.from({ length: count }, () => {
              const worker = spawnWorker(bundle);
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

function spawnWorker(bundle: { file: string } | { code: string }): Worker {
  // A parse allocates a page's strings and drops them; a larger young generation keeps most of
  // that garbage out of the slower old-generation collections.
  const resourceLimits = { maxYoungGenerationSizeMb: 64 };
  return "file" in bundle ? new Worker(bundle.file, { resourceLimits }) : new Worker(bundle.code, { eval: true, resourceLimits });
}
