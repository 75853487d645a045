import { parentPort } from "node:worker_threads";
import type { ExportSource } from "./discover.ts";
import { packDocument } from "./packed.ts";
import { parseSource } from "./source.ts";

/** A parse worker: parses the sources it is sent, in order, and answers each with its documents. */
parentPort!.on("message", (task: { index: number; source: ExportSource; timezone?: string }) => {
  try {
    const documents = parseSource(task.source, task.timezone).map(packDocument);
    parentPort!.postMessage({ index: task.index, documents });
  } catch (error) {
    parentPort!.postMessage({ index: task.index, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
