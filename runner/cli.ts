import { Command, CommanderError, InvalidArgumentError } from "commander";
import { UserError } from "./errors.ts";
import { registerLoadCommands } from "../loaders/commands.ts";

/** Parses `k=v,k2=v2` the way `dataform --vars` does. */
export function parseVars(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const vars = { ...previous };
  for (const pair of value.split(",")) {
    if (!pair.trim()) continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got "${pair}"`);
    vars[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  return vars;
}

export function parseList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(",").map((s) => s.trim()).filter(Boolean)];
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got "${value}"`);
  return n;
}

export function buildProgram(): Command {
  const program = new Command("duckform")
    .description("Compile Dataform projects with @dataform/core and run them on DuckDB.")
    .showHelpAfterError()
    .exitOverride();
  registerLoadCommands(program);
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
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv);
