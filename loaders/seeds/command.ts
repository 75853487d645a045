import type { Command } from "commander";

/** `duckform seed [--project DIR]`: the project's seeds/*.csv into seeds.<name>, typed as seeds/seeds.yaml says. */
export function registerSeedCommand(program: Command): void {
  program
    .command("seed")
    .description("Load seeds/*.csv into seeds.<name> tables with the types declared in seeds/seeds.yaml")
    .option("--project <dir>", "Dataform project directory", ".")
    .option("--database <file>", "DuckDB database file (default: the project's)")
    .action(async (options: { project: string; database?: string }) => {
      // Loaded on use, so that other commands do not start DuckDB for this one.
      const { openProjectDatabase } = await import("../../runner/project.ts");
      const { loadSeeds } = await import("./load.ts");
      const db = await openProjectDatabase(options);
      try {
        const results = await loadSeeds(db, options.project);
        console.log(`seed: ${results.length} tables (${results.map((r) => `${r.table} ${r.rows} rows`).join(", ") || "no seeds"})`);
      } finally {
        db.close();
      }
    });
}
