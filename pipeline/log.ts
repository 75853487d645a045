import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import pino from "pino";

export type LogFormat = "human" | "json";

/** `<database>.pipeline.log`: every run appended, JSON lines, whatever the terminal shows. */
export function logPath(database: string): string {
  return `${database.replace(/\.duckdb$/, "")}.pipeline.log`;
}

export interface PipelineLog {
  /** One line a user reads on the terminal (human format); the same event goes to the log as fields. */
  line(message: string, fields?: Record<string, unknown>): void;
  /** A failure in full: on stderr (human format), and in the log. */
  failure(message: string, fields?: Record<string, unknown>): void;
  /** Detail for the log file only (per-action results, warnings). */
  detail(message: string, fields?: Record<string, unknown>): void;
  close(): void;
}

/**
 * The pipeline's log, through pino: always appended to the log file beside the database; on the
 * terminal, human lines, or with `--log-format json` the same JSON the file gets, on stdout.
 * Written synchronously: a run killed mid-stage still leaves its last line in the file.
 */
export function openLog(file: string, format: LogFormat, base: Record<string, unknown>): PipelineLog {
  mkdirSync(dirname(file), { recursive: true });
  const toFile = pino.destination({ dest: file, append: true, sync: true });
  const streams: pino.StreamEntry[] = [{ stream: toFile, level: "debug" }];
  if (format === "json") streams.push({ stream: pino.destination({ dest: 1, sync: true }), level: "info" });
  const logger = pino({ level: "debug", base, timestamp: pino.stdTimeFunctions.isoTime }, pino.multistream(streams));
  return {
    line(message, fields = {}) {
      logger.info(fields, message);
      if (format === "human") console.log(message);
    },
    failure(message, fields = {}) {
      logger.error(fields, message);
      if (format === "human") console.error(message);
    },
    detail(message, fields = {}) {
      logger.debug(fields, message);
    },
    close() {
      toFile.flushSync();
    },
  };
}
