import type { Command } from "commander";

/** `duckform load ndjson <paths...> --table NAME [--replace]`. Exits 1 when any file was refused or failed. */
export function registerNdjsonCommand(load: Command): void {
  load
    .command("ndjson")
    .description("Land NDJSON files (.ndjson, .jsonl, .json, and .gz) into raw.<table>; bad lines go to raw.quarantine")
    .argument("<paths...>", "files, or directories searched recursively")
    .requiredOption("--table <name>", "the table to land into, as raw.<name>")
    .option("--replace", "replace the rows of a file whose content changed since it was landed")
    .option("--memory-limit <size>", "DuckDB's memory limit while loading, e.g. 4GB (default: DuckDB's share of RAM)")
    .option("--project <dir>", "Dataform project directory", ".")
    .option("--database <file>", "DuckDB database file (default: the project's)")
    .action(async (paths: string[], options: { table: string; replace?: boolean; memoryLimit?: string; project: string; database?: string }) => {
      const started = Date.now();
      // Loaded on use, so that other commands do not start DuckDB for this one.
      const { openProjectDatabase } = await import("../../runner/project.ts");
      const { loadNdjson } = await import("./load.ts");
      const { loadSummary, startLoadProgress } = await import("../progress.ts");
      const db = await openProjectDatabase(options);
      const progress = startLoadProgress("load ndjson");
      try {
        const results = await loadNdjson(db, paths, {
          table: options.table,
          replace: options.replace,
          memoryLimit: options.memoryLimit,
          onProgress: progress.enabled ? (state) => progress.update(state) : undefined,
        });
        progress.stop();
        for (const result of results) {
          if (result.status === "refused") console.error(`duckform: refused ${result.path}: ${result.error}`);
          if (result.status === "failed") console.error(`duckform: failed ${result.error}; the other files went on, and a rerun retries this one`);
          // A pretty-printed .json document lands nothing and quarantines every line: say so.
          if (result.rowsLanded === 0 && result.rowsQuarantined > 1) {
            console.error(`duckform: warning: no line of ${result.path} holds a JSON object on its own; is it NDJSON?`);
          }
        }
        console.log(loadSummary("load ndjson", results, (Date.now() - started) / 1000));
        if (results.some((r) => r.status === "refused" || r.status === "failed")) process.exitCode = 1;
      } finally {
        progress.stop();
        db.close();
      }
    });
}
