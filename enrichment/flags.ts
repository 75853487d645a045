import { InvalidArgumentError } from "commander";
import { parseBudget, type Budget } from "./cost.ts";

/** The flag parsers enrich, search and analyze share; each error is commander's, so the CLI prints it as one line. */

export function parseProvider(value: string): string {
  if (value !== "local" && value !== "openai") throw new InvalidArgumentError(`expected local or openai, got "${value}"`);
  return value;
}

export function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number > 0, got "${value}"`);
  return n;
}

export function parseBudgetFlag(value: string): Budget {
  try {
    return parseBudget(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message.replace(/^--budget: /, "") : String(error));
  }
}
