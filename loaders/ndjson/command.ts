import type { Command } from "commander";
import { runLoadCommand, type LoadCommandOptions } from "../command.ts";

/** `duckform load ndjson <paths...> --table NAME [--replace]`. Exits 1 when any file was refused or failed. */
export function registerNdjsonCommand(load: Command): void {
  load
    .command("ndjson")
    .description("Land NDJSON files (.ndjson, .jsonl, .json, and .gz) into raw.<table>; bad lines go to raw.quarantine")
    .argument("<paths...>", "files, or directories searched recursively")
    .requiredOption("--table <name>", "the table to land into, as raw.<name>")
    .option("--replace", "replace the rows of a file whose content changed since it was landed")
    .option(
      "--memory-limit <size>",
      "DuckDB's memory limit while loading, e.g. 4GB (default: 256MB, and DuckDB's share of RAM for a file that needs more)",
    )
    .option("--project <dir>", "Dataform project directory", ".")
    .option("--database <file>", "DuckDB database file (default: the project's)")
    .action((paths: string[], options: LoadCommandOptions & { table: string; replace?: boolean; memoryLimit?: string }) =>
      runLoadCommand(
        "load ndjson",
        options,
        async (db, onProgress) => {
          const { loadNdjson } = await import("./load.ts");
          const results = await loadNdjson(db, paths, {
            table: options.table,
            replace: options.replace,
            memoryLimit: options.memoryLimit,
            onProgress,
          });
          return { results };
        },
        {
          // A pretty-printed .json document lands nothing and quarantines every line: say so.
          warning: (result) =>
            result.rowsLanded === 0 && result.rowsQuarantined > 1
              ? `no line of ${result.path} holds a JSON object on its own; is it NDJSON?`
              : undefined,
        },
      ),
    );
}
