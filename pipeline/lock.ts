import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { hostname } from "node:os";

/** What a lock file holds: who runs the pipeline, since when. */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

/** Another pipeline holds the lock and did not let go within `--wait`. */
export class LockBusyError extends Error {
  constructor(
    readonly file: string,
    readonly holder: LockHolder | null,
    waitedSeconds: number,
  ) {
    const who = holder ? `process ${holder.pid} on ${holder.host}, running since ${holder.startedAt}` : "another pipeline";
    super(
      `another pipeline is running on this database (${who}; lock ${file}); ` +
        `waited ${waitedSeconds} s. Run again later, or pass --wait SECONDS to queue behind it`,
    );
    this.name = "LockBusyError";
  }
}

/** `<database>.pipeline.lock`: beside the file it guards, so two configs naming one database share it. */
export function lockPath(database: string): string {
  return `${database}.pipeline.lock`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but is someone else's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(file: string): { text: string; holder: LockHolder | null } | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  try {
    return { text, holder: JSON.parse(text) as LockHolder };
  } catch {
    // Half-written by a holder killed between open and write: nobody can be holding it.
    return { text, holder: null };
  }
}

/**
 * One pipeline at a time on a database. The lock is a file created with O_EXCL holding the pid
 * and start time; DuckDB's own lock would also stop a second writer, but only once it had got as
 * far as opening the file, with an error that names no pipeline. A lock whose process is gone
 * (kill -9, a crash, a reboot) is stale and taken over.
 */
export class PipelineLock {
  private constructor(
    readonly file: string,
    private readonly text: string,
    /** The holder whose stale lock this one replaced, if any. */
    readonly tookOverFrom: LockHolder | null,
  ) {}

  static async open(database: string, options: { waitSeconds?: number; pollMs?: number } = {}): Promise<PipelineLock> {
    const file = lockPath(database);
    mkdirSync(dirname(file), { recursive: true });
    const waitSeconds = options.waitSeconds ?? 0;
    const deadline = Date.now() + waitSeconds * 1000;
    const mine: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
    const text = `${JSON.stringify(mine)}\n`;
    let tookOverFrom: LockHolder | null = null;
    for (;;) {
      try {
        const fd = openSync(file, "wx");
        try {
          writeSync(fd, text);
        } finally {
          closeSync(fd);
        }
        return new PipelineLock(file, text, tookOverFrom);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const current = readHolder(file);
      if (current === null) continue;
      const { holder } = current;
      const stale = holder === null || (holder.host === mine.host && !alive(holder.pid));
      if (stale) {
        // Only the lock we judged stale is removed: another process may have taken it over since.
        if (readHolder(file)?.text === current.text) rmSync(file, { force: true });
        tookOverFrom = holder;
        continue;
      }
      if (Date.now() >= deadline) throw new LockBusyError(file, holder, waitSeconds);
      await new Promise((r) => setTimeout(r, Math.min(options.pollMs ?? 250, Math.max(deadline - Date.now(), 1))));
    }
  }

  /** Removes the lock if it is still this process's. */
  close(): void {
    if (readHolder(this.file)?.text === this.text) rmSync(this.file, { force: true });
  }
}
