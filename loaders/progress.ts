import cliProgress from "cli-progress";
import type { LandResult } from "./land.ts";

/** Where a load stands, for every source: files and bytes done out of the total, rows landed so far. */
export interface LoadProgress {
  files: number;
  totalFiles: number;
  bytes: number;
  totalBytes: number;
  rows: number;
  /** The file being landed, where the source knows it. */
  file?: string;
}

export interface ProgressBar {
  /** False when nothing will be drawn (stderr is not a terminal): callers can skip measuring. */
  readonly enabled: boolean;
  update(state: LoadProgress): void;
  stop(): void;
}

/**
 * A progress bar on stderr (files, rows, MB/s) for a load that is still running after
 * `delayMs`, and only when stderr is a terminal: piped output and CI logs stay clean.
 */
export function startLoadProgress(label: string, options: { delayMs?: number; stream?: NodeJS.WriteStream } = {}): ProgressBar {
  const stream = options.stream ?? process.stderr;
  if (!stream.isTTY) return { enabled: false, update() {}, stop() {} };
  const started = Date.now();
  const delayMs = options.delayMs ?? 1000;
  let bar: cliProgress.SingleBar | undefined;
  let last: LoadProgress | undefined;
  const payload = (state: LoadProgress) => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    return {
      files: `${state.files}/${state.totalFiles}`,
      rows: state.rows.toLocaleString("en"),
      rate: (state.bytes / 1e6 / seconds).toFixed(1),
    };
  };
  const show = (state: LoadProgress) => {
    if (!bar) {
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label} [{bar}] {percentage}% | files {files} | rows {rows} | {rate} MB/s | {duration_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.max(state.totalBytes, 1), state.bytes, payload(state));
    } else {
      bar.update(state.bytes, payload(state));
    }
  };
  // The bar appears after the delay even when no update arrives then (a big file's SQL phase).
  const timer = setTimeout(() => last && show(last), delayMs);
  timer.unref();
  return {
    enabled: true,
    update(state) {
      last = { ...state };
      if (bar || Date.now() - started >= delayMs) show(last);
    },
    stop() {
      clearTimeout(timer);
      bar?.stop();
    },
  };
}

/** The line printed when a load ends: what happened to the files, and to their rows. */
export function loadSummary(command: string, results: readonly LandResult[], seconds?: number): string {
  const count = (status: LandResult["status"]) => results.filter((r) => r.status === status).length;
  const rows = results.reduce((sum, r) => sum + r.rowsLanded, 0);
  const quarantined = results.reduce((sum, r) => sum + r.rowsQuarantined, 0);
  const replaced = count("replaced");
  const failed = count("failed");
  const files =
    `${count("landed")} landed` +
    (replaced ? `, ${replaced} replaced` : "") +
    `, ${count("skipped")} skipped, ${count("refused")} refused` +
    (failed ? `, ${failed} failed` : "");
  const time = seconds === undefined ? "" : ` in ${seconds.toFixed(1)} s`;
  return `${command}: files ${files}; ${rows.toLocaleString("en")} rows landed, ${quarantined.toLocaleString("en")} quarantined${time}`;
}
