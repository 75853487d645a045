import type { Command } from "commander";
import { parseVars } from "../runner/flags.ts";

/** `duckform forget-user` (and, in the pipeline, retention): the privacy operations. */
export function registerPrivacyCommands(program: Command): void {
  program
    .command("forget-user")
    .description(
      "Remove a person from every layer (raw, bronze, silver, gold, enrichment, quarantine), keep them out of later loads, republish gold",
    )
    .argument("<who>", "their user id, e-mail, Slack id or handle, or Telegram name")
    .argument("[project-dir]", "the Dataform project", ".")
    .option("--config <file>", "duckform.yaml: its database, publish and report paths and vars")
    .option("--database <file>", "DuckDB file (default: the config's, else <defaultDatabase>.duckdb in the project, or $DUCKFORM_DATABASE)")
    .option("--vars <k=v,...>", "override project vars for the rebuild", parseVars)
    .option("--wait <seconds>", "wait this long for a running pipeline to finish", Number, 0)
    .action(
      async (
        who: string,
        projectDir: string,
        opts: { config?: string; database?: string; vars?: Record<string, string>; wait: number },
      ) => {
        const { forgetUser } = await import("./forget.ts");
        const r = await forgetUser(projectDir, who, {
          config: opts.config,
          database: opts.database,
          vars: opts.vars,
          waitSeconds: opts.wait,
        });
        const deleted = Object.values(r.tables).reduce((n, t) => n + t.deleted, 0);
        const redacted = Object.values(r.tables).reduce((n, t) => n + t.redacted, 0);
        console.log(
          r.newlyForgotten
            ? `Forgot person ${r.subjectHash.slice(0, 12)}… (${r.identifiers} identifiers${r.shared > 0 ? `; ${r.shared} shared with other people kept` : ""}): ${deleted} rows deleted, ${redacted} redacted in ${Object.keys(r.tables).length} tables of ${r.database}`
            : `Person ${r.subjectHash.slice(0, 12)}… was already forgotten; swept again: ${deleted} rows deleted, ${redacted} redacted`,
        );
        for (const [table, n] of Object.entries(r.tables)) console.log(`  ${table}: ${n.deleted} deleted, ${n.redacted} redacted`);
        console.log(`Rebuilt the warehouse: run ${r.runStatus === "success" ? "succeeded" : "failed"}`);
        if (r.published) console.log(`Republished gold → ${r.published}`);
        else if (r.publishNote) console.log(`Gold not republished (${r.publishNote}); the published snapshot was swept in place`);
        if (r.report) console.log(`Rewrote the report → ${r.report}`);
        if (r.runStatus === "failed" || !r.published) process.exitCode = 1;
      },
    );
}
