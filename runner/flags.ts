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
