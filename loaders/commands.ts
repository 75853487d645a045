import type { Command } from "commander";
import { registerSlackCommand } from "./slack/command.ts";

/**
 * The `load …`, `seed` and `generate-sample` commands. Each loader adds its own block below;
 * the runner's CLI calls this once. Every command takes `--project DIR` (default ".") and
 * `--database FILE` and opens the database with `openProjectDatabase` from runner/project.ts,
 * so loaders and `duckform run` share one file.
 */
export function registerLoadCommands(program: Command): void {
  const load = program.command("load").description("Land raw files into the project's DuckDB database");
  void load;

  // Slack (loaders/slack/)
  registerSlackCommand(load);
}
