import { InvalidArgumentError, Option, type Command } from "commander";
import { UsageError, UserError } from "../runner/errors.ts";
import { parseVars } from "../runner/flags.ts";

/**
 * `duckform pipeline [project-dir] [--config duckform.yaml]`: the whole job. It sets its own exit
 * code (pipeline.ts EXIT), so that a scheduler can tell a failed assertion from a broken disk.
 */
export function registerPipelineCommand(program: Command): void {
  program
    .command("pipeline")
    .description("Seed, load every source, run, enrich, publish gold and write the report; one pipeline per database at a time")
    .argument("[project-dir]", "the Dataform project", ".")
    .option("--config <file>", "duckform.yaml: sources, database, enrichment… (default: the bundled sample in data/sample)")
    .option("--database <file>", "DuckDB file (default: the config's, else <defaultDatabase>.duckdb in the project, or $DUCKFORM_DATABASE)")
    .option("--vars <k=v,...>", "override project vars", parseVars)
    .option("--wait <seconds>", "when another pipeline holds the database, wait this long for it (default 0)", parseSeconds, 0)
    .addOption(new Option("--log-format <format>", "human lines, or JSON lines on stdout").choices(["human", "json"]).default("human"))
    .action(
      async (
        projectDir: string,
        opts: { config?: string; database?: string; vars?: Record<string, string>; wait: number; logFormat: "human" | "json" },
      ) => {
        // Loaded on use, like every command: the pipeline pulls in every stage's modules.
        const [{ runPipeline }, { EXIT }] = await Promise.all([import("./pipeline.ts"), import("./outcome.ts")]);
        try {
          const result = await runPipeline({
            projectDir,
            config: opts.config,
            database: opts.database,
            vars: opts.vars,
            waitSeconds: opts.wait,
            logFormat: opts.logFormat,
          });
          process.exitCode = result.exitCode;
        } catch (error) {
          // A bad flag or config keeps the CLI's exit 2; anything else outside a stage is a system failure, not 1.
          if (error instanceof UsageError) throw error;
          console.error(error instanceof UserError ? `duckform: ${error.message}` : error);
          process.exitCode = EXIT.system;
        }
      },
    );
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected seconds ≥ 0, got "${value}"`);
  return n;
}
