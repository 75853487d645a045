import { parentPort } from "node:worker_threads";
import type { ExportSource } from "./discover.ts";
import { parseSource } from "./source.ts";

/** A parse worker: receives one source at a time and answers with its documents. */
parentPort!.on("message", async (task: { index: number; source: ExportSource; timezone?: string }) => {
  try {
    const documents = await parseSource(task.source, task.timezone);
    parentPort!.postMessage({ index: task.index, documents });
  } catch (error) {
    parentPort!.postMessage({ index: task.index, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
