import { InvalidArgumentError } from "commander";

/** Commander parsers for the counting flags every command shares; a bad value is a usage error naming what was expected. */

/** A whole number ≥ 1: `--concurrency`, `--limit`, `--batch-size`. */
export function parsePositiveInt(value: string): number {
  return wholeNumber(value, 1);
}

/** A whole number ≥ 0: `--retries`, the sample sizes. */
export function parseCount(value: string): number {
  return wholeNumber(value, 0);
}

function wholeNumber(value: string, min: 0 | 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number ≥ ${min}, got "${value}"`);
  return n;
}

/** `k=v,k2=v2`, the way `dataform --vars` parses it; a repeated flag adds to the earlier pairs. */
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
