import type { DuckDBConnection } from "@duckdb/node-api";
import { UserError, messageOf } from "../../runner/errors.ts";
import { quoteLiteral } from "../../runner/quote.ts";
import { parseSize } from "../size.ts";
import type { FileScan } from "./scan.ts";

/** Sets DuckDB's memory limit (an instance-wide setting), naming the flag when DuckDB refuses the value. */
export async function setMemoryLimit(connection: DuckDBConnection, limit: string): Promise<void> {
  try {
    await connection.run(`set memory_limit = ${quoteLiteral(limit)}`);
  } catch (error) {
    throw new UserError(`--memory-limit ${limit}: ${messageOf(error)}`);
  }
}

/**
 * What DuckDB needs per byte of the longest line: its CSV buffers, the line's vector and the
 * JSON check each hold a copy or more. A 24 MB line failed under 400 MB and landed under
 * 512 MB (peak RSS 340 MB: DuckDB reserves more than it touches).
 */
const MEMORY_PER_LINE_BYTE = 20;

/**
 * Runs `work` with DuckDB's memory limit raised to what the file's longest line needs, when
 * the limit in force (DuckDB's share of RAM, or `--memory-limit`) is lower, and puts it back
 * afterwards: a limit caps ordinary files and never makes a valid line unloadable.
 */
export async function withMemoryFor<T>(
  connection: DuckDBConnection,
  scan: FileScan,
  memoryLimit: string | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const needed = MEMORY_PER_LINE_BYTE * scan.longestLine;
  const current = (await connection.runAndReadAll("select current_setting('memory_limit')")).getRows()[0][0];
  if (needed <= (parseSize(String(current)) ?? Infinity)) return work();
  await connection.run(`set memory_limit = ${quoteLiteral(`${Math.ceil(needed / 2 ** 20)}MiB`)}`);
  try {
    return await work();
  } finally {
    if (memoryLimit) await connection.run(`set memory_limit = ${quoteLiteral(memoryLimit)}`);
    else await connection.run("reset memory_limit");
  }
}
