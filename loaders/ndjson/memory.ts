import type { DuckDBConnection } from "@duckdb/node-api";
import { UserError, messageOf } from "../../runner/errors.ts";
import { quoteLiteral } from "../../runner/quote.ts";
import { parseSize } from "../size.ts";
import type { FileScan } from "./scan.ts";

/**
 * The limit files land under when no --memory-limit is given. Landing is a stream: the 2 M-event
 * file takes as long under 256 MB as under DuckDB's default share of RAM (18.8 GiB here), while
 * that share lets DuckDB cache what it wrote until a 430 MB directory holds 1 GB. A file that
 * runs out of memory under it is landed again under DuckDB's share (withMemoryFallback).
 */
export const WORKING_MEMORY_LIMIT = "256MB";

/** The settings of one load, put back by endLoadMemory. */
export interface LoadMemory {
  /** The limit files land under: --memory-limit, or the working limit. */
  limit: string;
  /** Whether `limit` is the user's --memory-limit, which stays in force after the load. */
  given: boolean;
  /** DuckDB's default share of RAM as it prints it: the fallback when the user set no limit. */
  share: string;
  checkpointThreshold: string;
}

/**
 * Sets the limit a load runs under, `given` (naming the flag when DuckDB refuses it) or the
 * working limit when DuckDB's default share of RAM is larger, and defers checkpoints.
 */
export async function setLoadMemory(connection: DuckDBConnection, given: string | undefined): Promise<LoadMemory> {
  const share = await setting(connection, "memory_limit");
  const checkpointThreshold = await setting(connection, "checkpoint_threshold");
  const limit = given ?? ((parseSize(share) ?? Infinity) > parseSize(WORKING_MEMORY_LIMIT)! ? WORKING_MEMORY_LIMIT : share);
  try {
    await setMemoryLimit(connection, limit);
  } catch (error) {
    throw given === undefined ? error : new UserError(`--memory-limit ${given}: ${messageOf(error)}`);
  }
  await connection.run(`set checkpoint_threshold = '${DEFERRED_CHECKPOINT}'`);
  return { limit, given: given !== undefined, share, checkpointThreshold };
}

/**
 * Ends a load: one checkpoint, under the load's limit, writes what the load committed to the
 * WAL, and DuckDB frees what it kept. The checkpoint threshold goes back, and so does DuckDB's
 * default share unless the user gave a limit. The share is set and then reset: the set moves
 * DuckDB's buffer pool to it (as printed, to 0.1 GiB), the reset puts back the setting's exact
 * value. A reset alone leaves the pool at the last limit set (duckdb/duckdb#22203, still so in
 * 1.5.6).
 */
export async function endLoadMemory(connection: DuckDBConnection, memory: LoadMemory): Promise<void> {
  try {
    await withMemoryFallback(connection, memory, () => connection.run("checkpoint"));
    await releaseMemory(connection, memory.limit);
  } finally {
    await connection.run(`set checkpoint_threshold = ${quoteLiteral(memory.checkpointThreshold)}`);
    if (!memory.given) {
      await setMemoryLimit(connection, memory.share);
      await connection.run("reset memory_limit");
    }
  }
}

async function setting(connection: DuckDBConnection, name: string): Promise<string> {
  return String((await connection.runAndReadAll(`select current_setting(${quoteLiteral(name)})`)).getRows()[0][0]);
}

/** Sets DuckDB's memory limit, an instance-wide setting. */
export async function setMemoryLimit(connection: DuckDBConnection, limit: string): Promise<void> {
  await connection.run(`set memory_limit = ${quoteLiteral(limit)}`);
}

/**
 * Runs `work` under `memory.limit`, and once more under DuckDB's default share if DuckDB ran
 * out of memory under the working limit: each attempt is one transaction, so the first left
 * nothing behind.
 */
export async function withMemoryFallback<T>(
  connection: DuckDBConnection,
  memory: LoadMemory,
  work: (limit: string) => Promise<T>,
): Promise<T> {
  try {
    return await work(memory.limit);
  } catch (error) {
    if (memory.given || memory.limit === memory.share || !isOutOfMemory(error)) throw error;
    await setMemoryLimit(connection, memory.share);
    try {
      return await work(memory.share);
    } finally {
      await setMemoryLimit(connection, memory.limit);
    }
  }
}

export function isOutOfMemory(error: unknown): boolean {
  return /^Out of Memory Error/.test(messageOf(error));
}

/**
 * What DuckDB needs per byte of the longest line: its CSV buffers, the line's vector and the
 * JSON check each hold a copy or more. A 24 MB line failed under 400 MB and landed under
 * 512 MB (peak RSS 340 MB: DuckDB reserves more than it touches).
 */
const MEMORY_PER_LINE_BYTE = 20;

/**
 * Runs `work` with DuckDB's memory limit raised to what the file's longest line needs, when
 * `limit` (the one in force) is lower, and puts it back afterwards: a limit caps ordinary
 * files and never makes a valid line unloadable.
 */
export async function withMemoryFor<T>(connection: DuckDBConnection, scan: FileScan, limit: string, work: () => Promise<T>): Promise<T> {
  const needed = MEMORY_PER_LINE_BYTE * scan.longestLine;
  if (needed <= (parseSize(limit) ?? Infinity)) return work();
  await setMemoryLimit(connection, `${Math.ceil(needed / 2 ** 20)}MiB`);
  try {
    return await work();
  } finally {
    await setMemoryLimit(connection, limit);
  }
}

/**
 * The checkpoint threshold during a load, high enough that no commit checkpoints. DuckDB checkpoints
 * when a commit takes the WAL past 16 MB, inside that commit; in the 430 MB directory of
 * bench/ndjson.ts those checkpoints took the process to 560–620 MB under a 256 MB limit, one
 * checkpoint at the end to 430 MB, in no more time. A kill before it loses nothing: DuckDB
 * replays the WAL on the next open.
 */
const DEFERRED_CHECKPOINT = "1TB";

/** Low enough that DuckDB evicts every buffer no statement is using. */
const RELEASE_LIMIT = "8MB";

/**
 * Hands back to the system the memory DuckDB kept from the file just landed. DuckDB keeps
 * the buffers a statement freed, and duckdb_memory() does not count them: over a directory of
 * wide files the process grew by ~100 MB a file, to 700 MB under a 256 MB limit and 1 GB under
 * the default. Lowering the limit for a moment makes DuckDB free them; a committed file loses
 * nothing, as what is evicted is on disk or in the temp directory. A statement running on
 * another connection of the instance could run out of memory in that moment, so this is for a
 * load that has the instance to itself, as `load ndjson` and each pipeline stage do.
 */
export async function releaseMemory(connection: DuckDBConnection, limit: string): Promise<void> {
  try {
    await setMemoryLimit(connection, RELEASE_LIMIT);
  } catch {
    // Some memory is pinned: DuckDB freed what it could.
  } finally {
    await setMemoryLimit(connection, limit);
  }
}
