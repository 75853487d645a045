import { Command, CommanderError, Option } from "commander";
import { UsageError, UserError } from "./errors.ts";
import { parsePositiveInt, parseVars } from "./flags.ts";
import { registerLoadCommands } from "../loaders/commands.ts";
import { registerAnalysisCommands } from "../enrichment/analyze/command.ts";
import { registerEnrichmentCommands } from "../enrichment/commands.ts";
import { registerPipelineCommand } from "../pipeline/command.ts";
import { registerPrivacyCommands } from "../privacy/command.ts";
import { targetName } from "./graph.ts";

function parseList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

function printPublished(manifest: import("./publish.ts").Manifest): void {
  const rows = manifest.tables.reduce((sum, t) => sum + t.rows, 0);
  console.log(`Published run ${manifest.runId}: ${manifest.tables.length} tables, ${rows} rows → ${manifest.file}`);
}

function buildProgram(): Command {
  const program = new Command("duckform")
    .description("Compile Dataform projects with @dataform/core and run them on DuckDB.")
    .showHelpAfterError()
    .exitOverride();

  program
    .command("compile")
    .description("Compile the project with @dataform/core and print the graph")
    .argument("[project-dir]", "the Dataform project", ".")
    .option("--json", "print the compiled graph as JSON")
    .option("--vars <k=v,...>", "override project vars", parseVars)
    .option("--schema-suffix <suffix>", "append a suffix to every schema")
    .action(async (projectDir: string, opts) => {
      // Commands load their modules on use, so that `duckform compile` does not start DuckDB
      // and no command pays for another's dependencies.
      const { assertCompiled, compileProject } = await import("./compile.ts");
      let core = "";
      const graph = compileProject(projectDir, {
        vars: opts.vars,
        schemaSuffix: opts.schemaSuffix,
        onCore: (c) => (core = `@dataform/core ${c.version} (${c.source})`),
      });
      if (opts.json) console.log(JSON.stringify(graph, null, 2));
      assertCompiled(graph);
      if (!opts.json) {
        const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
        const notebooks = graph.notebooks ?? [];
        const preparations = graph.dataPreparations ?? [];
        console.log(
          `Compiled with ${core}: ${count(graph.tables.length, "dataset")}, ${count(graph.assertions.length, "assertion")}, ` +
            `${count(graph.operations.length, "operation")}, ${count(graph.declarations.length, "declaration")}, ` +
            `${count(graph.tests.length, "test")}, ${count(notebooks.length, "notebook")}` +
            `${preparations.length > 0 ? `, ${count(preparations.length, "data preparation")}` : ""}.`,
        );
        for (const t of graph.tables) console.log(`  ${targetName(t.target)} [${t.enumType.toLowerCase()}]  ${t.fileName}`);
        for (const o of graph.operations) console.log(`  ${targetName(o.target)} [operation]  ${o.fileName}`);
        for (const n of notebooks) console.log(`  ${targetName(n.target)} [notebook]  ${n.fileName}`);
        for (const p of preparations) console.log(`  ${targetName(p.target)} [data preparation]  ${p.fileName}`);
        for (const a of graph.assertions) console.log(`  ${targetName(a.target)} [assertion]  ${a.fileName}`);
      }
    });

  program
    .command("run")
    .description("Run the project's actions on DuckDB")
    .argument("[project-dir]", "the Dataform project", ".")
    .option("--database <file>", "DuckDB file (default: <defaultDatabase>.duckdb in the project, or $DUCKFORM_DATABASE)")
    .option("--actions <names>", "run only these actions (comma-separated, repeatable)", parseList)
    .option("--tags <tags>", "run only actions with these tags (comma-separated, repeatable)", parseList)
    .option("--include-deps", "also run the dependencies of the selected actions")
    .option("--include-dependents", "also run the dependents of the selected actions")
    .option("--full-refresh", "rebuild incremental tables from scratch (protected tables excepted)")
    .option("--dry-run", "print the SQL each action would run; change nothing")
    .option("--vars <k=v,...>", "override project vars", parseVars)
    .option("--schema-suffix <suffix>", "append a suffix to every schema")
    .option("--concurrency <n>", "actions run in parallel (default: cores)", parsePositiveInt)
    .option("--json", "print run results as JSON")
    .option("--publish", "then publish gold to gold.duckdb beside the database, if its assertions passed")
    .action(async (projectDir: string, opts) => {
      const { runProject } = await import("./run.ts");
      const { describeResult } = await import("./results.ts");
      const run = await runProject(projectDir, {
        database: opts.database,
        actions: opts.actions,
        tags: opts.tags,
        includeDependencies: opts.includeDeps,
        includeDependents: opts.includeDependents,
        fullRefresh: opts.fullRefresh,
        dryRun: opts.dryRun,
        vars: opts.vars,
        schemaSuffix: opts.schemaSuffix,
        concurrency: opts.concurrency,
        onResult: opts.json || opts.dryRun ? undefined : (r) => console.log(describeResult(r)),
      });
      if (opts.json) {
        console.log(JSON.stringify(run, null, 2));
      } else if (opts.dryRun) {
        for (const a of run.actions) {
          console.log(`-- ${a.name} [${a.type}${a.status === "disabled" ? ", disabled" : ""}]  ${a.fileName}`);
          for (const statement of a.sql ?? []) console.log(`${statement.trim().replace(/;+$/, "")};\n`);
        }
      } else {
        const count = (status: string) => run.actions.filter((a) => a.status === status).length;
        console.log(
          `Run ${run.status === "success" ? "succeeded" : "failed"} in ${run.seconds.toFixed(2)}s: ` +
            `${count("success")} succeeded, ${count("failed")} failed, ${count("skipped")} skipped, ${count("disabled")} disabled.`,
        );
      }
      if (run.status === "failed") process.exitCode = 1;
      if (opts.publish && !opts.dryRun) {
        const { publishGold } = await import("./publish.ts");
        printPublished(await publishGold(projectDir, { database: opts.database, vars: opts.vars, schemaSuffix: opts.schemaSuffix }));
      }
    });

  program
    .command("publish")
    .description("Copy gold and the quality tables into a snapshot file BI tools read, swapped in atomically")
    .argument("[project-dir]", "the Dataform project", ".")
    .option("--database <file>", "DuckDB file (default: <defaultDatabase>.duckdb in the project, or $DUCKFORM_DATABASE)")
    .option("--to <file>", "the published file (default: gold.duckdb beside the database)")
    .action(async (projectDir: string, opts) => {
      const { publishGold } = await import("./publish.ts");
      printPublished(await publishGold(projectDir, { database: opts.database, to: opts.to }));
    });

  program
    .command("test")
    .description('Run the project\'s unit tests (type: "test")')
    .argument("[project-dir]", "the Dataform project", ".")
    .option("--database <file>", "DuckDB file for tests that read tables")
    .option("--vars <k=v,...>", "override project vars", parseVars)
    .action(async (projectDir: string, opts) => {
      const { runUnitTests } = await import("./unitTests.ts");
      const results = await runUnitTests(projectDir, { database: opts.database, vars: opts.vars });
      for (const r of results) {
        console.log(`${r.successful ? "Test passed" : "Test failed"}: ${r.name}  ${r.fileName}`);
        for (const m of r.messages) console.log(`    ${m}`);
      }
      const failed = results.filter((r) => !r.successful).length;
      console.log(`${results.length - failed} passed, ${failed} failed`);
      if (failed > 0) process.exitCode = 1;
    });

  program
    .command("export")
    .description("Write gold tables as Parquet; facts with a date column hive-partitioned by month")
    .argument("[project-dir]", "the Dataform project", ".")
    .requiredOption("--out <dir>", "the folder to write to")
    .addOption(new Option("--format <format>", "the file format").choices(["parquet"]).default("parquet"))
    .option("--tables <names>", "only these gold tables (comma-separated, repeatable)", parseList)
    .option("--database <file>", "DuckDB file (default: <defaultDatabase>.duckdb in the project, or $DUCKFORM_DATABASE)")
    .action(async (projectDir: string, opts) => {
      const { exportParquet } = await import("./export.ts");
      const exported = await exportParquet(projectDir, { database: opts.database, out: opts.out, tables: opts.tables });
      for (const t of exported) {
        console.log(`  ${t.table}: ${t.rows} rows → ${t.path}${t.partitionedBy ? ` (by month of ${t.partitionedBy})` : ""}`);
      }
      console.log(`Exported ${exported.length} gold table${exported.length === 1 ? "" : "s"} to ${opts.out}`);
    });

  program
    .command("report")
    .description("Write the data-quality report: one self-contained HTML file that opens offline")
    .argument("[project-dir]", "the Dataform project", ".")
    .option("--database <file>", "DuckDB file (default: <defaultDatabase>.duckdb in the project, or $DUCKFORM_DATABASE)")
    .option("--out <file>", "the HTML file (default: report.html beside the database)")
    .option("--open", "serve the report on 127.0.0.1 and print its URL (until Ctrl-C)")
    .action(async (projectDir: string, opts) => {
      const { serveReport, writeReport } = await import("../report/report.ts");
      const { file, bytes } = await writeReport(projectDir, { database: opts.database, out: opts.out });
      console.log(`Report written to ${file} (${(bytes / 1e6).toFixed(1)} MB)`);
      if (opts.open) {
        const { url } = await serveReport(file);
        console.log(`Serving the report at ${url} (Ctrl-C to stop)`);
        await new Promise(() => undefined);
      }
    });

  program
    .command("rejected")
    .description("List the rows that did not reach silver: quarantined lines, validation errors and duplicates (quality.rejected_rows)")
    .argument("[project-dir]", "the Dataform project", ".")
    .option("--database <file>", "DuckDB file (default: <defaultDatabase>.duckdb in the project, or $DUCKFORM_DATABASE)")
    .option("--reason <text>", "only rows whose reason contains this (a validation code, a quarantine phrase, duplicate)")
    .option("--file <text>", "only rows of files whose name contains this")
    .option("--limit <n>", "print at most this many rows (default 1000)", parsePositiveInt)
    .option("--json", "print the rows as JSON")
    .action(async (projectDir: string, opts) => {
      const { listRejected } = await import("./rejected.ts");
      const { rows, total } = await listRejected(projectDir, opts);
      if (opts.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      for (const r of rows)
        console.log(`${r.stage.padEnd(13)} ${r.source.padEnd(17)} ${r.file}:${r.line}  ${r.reason}  (load ${r.loadId})`);
      console.log(
        `${total} rejected row${total === 1 ? "" : "s"}${rows.length < total ? ` (${rows.length} shown; --limit for more)` : ""}`,
      );
    });

  registerLoadCommands(program);
  registerEnrichmentCommands(program);
  registerAnalysisCommands(program);
  registerPipelineCommand(program);
  registerPrivacyCommands(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed the usage error (or the help text).
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof UserError) {
      console.error(`duckform: ${error.message}`);
      return error instanceof UsageError ? 2 : 1;
    }
    throw error;
  }
}

// `duckform run --dry-run | head` closes stdout early; that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv);
