import { postAlert } from "./alert.ts";
import type { PipelineLog } from "./log.ts";
import type { Headline, StageRecord } from "./runs.ts";

/** What the pipeline's exit code tells a scheduler (documented in the README). */
export const EXIT = { ok: 0, quality: 1, usage: 2, system: 3, busy: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
const VERDICT = [
  "ok",
  "data-quality failure: gold not published",
  "usage or config error",
  "system failure: a stage could not complete",
  "another pipeline holds the database",
];

export interface PipelineResult {
  exitCode: ExitCode;
  runId: string;
  database: string;
  published: string | null;
  report: string | null;
  log: string;
  headline: Headline | null;
  stages: StageRecord[];
}

/** The last lines of every run: where things are, the headline numbers and the verdict. */
export function printEnd(log: PipelineLog, result: PipelineResult): void {
  const h = result.headline;
  const n = (v: number | null | undefined) => (v === null || v === undefined ? "?" : v.toLocaleString("en"));
  const verdict = VERDICT[result.exitCode];
  log.line(`\nReport:    ${result.report ?? "(not written)"}`);
  log.line(`Published: ${result.published ?? "(not published)"}`);
  log.line(`Warehouse: ${result.database}`);
  log.line(`Log:       ${result.log}`);
  if (h) {
    log.line(
      `${n(h.messages)} messages, ${n(h.users)} users, ${n(h.events)} events; assertions ${h.assertionsPassed} passed, ${h.assertionsFailed} failed`,
      { headline: h },
    );
  }
  log.line(`pipeline ${result.exitCode === EXIT.ok ? "succeeded" : "failed"} (exit ${result.exitCode}: ${verdict})`, {
    exitCode: result.exitCode,
  });
}

/** Only when a human is needed (exit 1 or 3): one message, names and counts only. */
export async function alert(webhook: string, result: PipelineResult, log: PipelineLog): Promise<void> {
  const failedStages = result.stages.filter((s) => s.status === "failed");
  const problem = await postAlert(webhook, {
    exitCode: result.exitCode,
    verdict: VERDICT[result.exitCode],
    database: result.database,
    report: result.report,
    stages: failedStages.map((s) => `${s.stage}: ${s.summary}`),
    failed: failedStages.flatMap((s) => (Array.isArray(s.detail?.failed) ? (s.detail.failed as string[]) : [])),
  });
  if (problem) log.failure(`duckform: ${problem}`);
  else log.detail("alert posted to alerts.webhook");
}
