import type { Database } from "../runner/database.ts";
import type { LandResult } from "./land.ts";
import type { LoadProgress } from "./progress.ts";

/** The flags every load command takes. */
export interface LoadCommandOptions {
  project: string;
  database?: string;
}

/** What a source's load returns to the command: the per-file results and what to add to the summary line. */
export interface LoadOutcome<R extends LandResult> {
  results: R[];
  /** Appended to the summary line, e.g. the rows each table got. */
  summary?: string;
}

export interface LoadReport<R extends LandResult> {
  /** How a refused file is named to the user (default: its path). */
  refusedName?: (result: R) => string;
  /** A warning about a file, if it deserves one. */
  warning?: (result: R) => string | undefined;
}

/**
 * Runs one `duckform load <source>`: opens the project's database, shows a progress bar,
 * says which files were refused or failed, prints the summary line, and sets exit code 1
 * when any file was refused or failed (the others landed; a rerun retries the failed ones).
 */
export async function runLoadCommand<R extends LandResult>(
  command: string,
  options: LoadCommandOptions,
  load: (db: Database, onProgress: ((progress: LoadProgress) => void) | undefined) => Promise<LoadOutcome<R>>,
  report: LoadReport<R> = {},
): Promise<void> {
  const started = Date.now();
  // Loaded on use, so that other commands do not start DuckDB for this one.
  const { openProjectDatabase } = await import("../runner/project.ts");
  const { loadSummary, startLoadProgress } = await import("./progress.ts");
  const db = await openProjectDatabase(options);
  const bar = startLoadProgress(command);
  try {
    const { results, summary } = await load(db, bar.enabled ? (progress) => bar.update(progress) : undefined);
    bar.stop();
    for (const result of results) {
      if (result.status === "refused")
        console.error(`duckform: refused ${(report.refusedName ?? ((r) => r.path))(result)}: ${result.error}`);
      if (result.status === "failed") console.error(`duckform: failed ${result.error}; a rerun retries it`);
      const warning = report.warning?.(result);
      if (warning) console.error(`duckform: warning: ${warning}`);
    }
    console.log(`${loadSummary(command, results, (Date.now() - started) / 1000)}${summary ?? ""}`);
    if (results.some((r) => r.status === "refused" || r.status === "failed")) process.exitCode = 1;
  } finally {
    bar.stop();
    db.close();
  }
}
