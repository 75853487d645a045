import { InvalidArgumentError } from "commander";

const UNITS: Record<string, number> = {
  b: 1,
  bytes: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Bytes in a size written as people and DuckDB write them: `256MB`, `1.5 GiB`, `18.8 GiB`
 * (DuckDB shows settings rounded, which is close enough to compare), `1048576`.
 * Returns undefined for anything else.
 */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = UNITS[(match[2] || "b").toLowerCase()];
  return unit === undefined ? undefined : Number(match[1]) * unit;
}

/** A commander parser for a size flag: bytes, or a usage error naming what it expected. */
export function sizeOption(value: string): number {
  const bytes = parseSize(value);
  if (bytes === undefined || bytes <= 0) throw new InvalidArgumentError(`expected a size such as 256MB or 2GB, got "${value}"`);
  return bytes;
}

/** A size for messages: `1.0 GiB`, `256.0 MiB`. */
export function formatSize(bytes: number): string {
  const [unit, scale] = bytes >= 2 ** 30 ? ["GiB", 2 ** 30] : bytes >= 2 ** 20 ? ["MiB", 2 ** 20] : ["KiB", 2 ** 10];
  return `${(bytes / scale).toFixed(1)} ${unit}`;
}
