import type { Command } from "commander";
import { registerNdjsonCommand } from "./ndjson/command.ts";
import { registerSlackCommand } from "./slack/command.ts";
import { registerCalendarCommand } from "./calendar/command.ts";
import { registerHubspotCommand } from "./hubspot/command.ts";
import { registerPostgresCommand } from "./postgres/command.ts";
import { registerTelegramCommand } from "./telegram/command.ts";
import { registerSampleCommand } from "./sample/command.ts";
import { registerSeedCommand } from "./seeds/command.ts";

/**
 * The `load …`, `seed` and `generate-sample` commands, each registered from its source's
 * folder; the runner's CLI calls this once. Every command takes `--project DIR` (default ".")
 * and `--database FILE` and opens the database with `openProjectDatabase` from
 * runner/project.ts, so loaders and `duckform run` share one file.
 */
export function registerLoadCommands(program: Command): void {
  const load = program.command("load").description("Land raw files into the project's DuckDB database");
  registerNdjsonCommand(load);
  registerTelegramCommand(load);
  registerSlackCommand(load);
  registerCalendarCommand(load);
  registerHubspotCommand(load);
  registerPostgresCommand(load);
  registerSeedCommand(program);
  registerSampleCommand(program);
}
