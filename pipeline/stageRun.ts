import { UsageError, UserError, messageOf } from "../runner/errors.ts";
import type { PipelineConfig } from "./config.ts";
import type { PipelineLog } from "./log.ts";
import { EXIT, type ExitCode, type PipelineResult } from "./outcome.ts";
import { retryTransient } from "./retry.ts";
import { recordStage, type StageHistory, type StageRecord, type StageStatus } from "./runs.ts";

/** What one pipeline run works with, from its start to its end. */
export interface Context {
  projectDir: string;
  config: PipelineConfig;
  vars: Record<string, string>;
  database: string;
  catalog: string;
  runId: string;
  log: PipelineLog;
  result: PipelineResult;
}

/** What a stage's work reports. */
export interface StageWork {
  status?: StageStatus;
  summary: string;
  counts?: Record<string, number>;
  detail?: Record<string, unknown>;
  /** The exit code this outcome calls for (a failed assertion: 1; a file that could not land: 3). */
  exit?: ExitCode;
  /** Shown in full, one per line. */
  failures?: string[];
}

/**
 * Whether a stage has work waiting: it never finished, it failed since it last finished, or a
 * stage it reads from did work (ok or failed) after it last finished. A pipeline killed between two stages thus resumes at the first
 * one that did not finish, whatever the later ones did in earlier runs.
 */
export function isOwed(
  history: Map<string, StageHistory>,
  current: StageRecord[],
  name: string,
  upstream: (stage: string) => boolean,
): boolean {
  const at = (r: StageRecord) => r.endedAt.getTime();
  const mine = Math.max(history.get(name)?.ok?.endedAt ?? -1, ...current.filter((r) => r.stage === name && r.status === "ok").map(at));
  if (mine < 0) return true;
  // Failed since it last succeeded: what it left (a failed assertion's history) is not the state its inputs call for.
  if ((history.get(name)?.workedAt ?? -1) > mine) return true;
  const worked = [
    ...[...history].filter(([stage]) => upstream(stage)).map(([, h]) => h.workedAt ?? -1),
    ...current.filter((r) => upstream(r.stage) && r.status !== "skipped").map(at),
  ];
  return worked.some((t) => t > mine);
}

/**
 * Runs one stage: its line on the terminal, its failures in full, its row in pipeline_runs.
 * Returns false when the stage threw, and the pipeline stops there: what follows reads its output.
 */
export async function runStage(ctx: Context, name: string, work: () => Promise<StageWork>): Promise<boolean> {
  const { log, result } = ctx;
  const startedAt = new Date();
  let outcome: StageWork;
  let error: string | undefined;
  try {
    outcome = await retryTransient(work, (e, attempt, left) =>
      log.line(`  ${name}: ${messageOf(e)}; retrying (attempt ${attempt + 1}, ${left} left)`),
    );
  } catch (thrown) {
    const usage = thrown instanceof UsageError;
    error = thrown instanceof UserError ? thrown.message : thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown);
    outcome = { status: "failed", summary: "could not complete", exit: usage ? EXIT.usage : EXIT.system, failures: [error] };
  }
  const record: StageRecord = {
    runId: ctx.runId,
    stage: name,
    status: outcome.status ?? "ok",
    startedAt,
    endedAt: new Date(),
    counts: outcome.counts ?? {},
    summary: outcome.summary,
    error: error ?? (outcome.failures?.length ? outcome.failures.join("\n") : undefined),
    detail: outcome.detail,
  };
  result.stages.push(record);
  if (outcome.exit !== undefined && outcome.exit > result.exitCode) result.exitCode = outcome.exit;
  const seconds = ((record.endedAt.getTime() - startedAt.getTime()) / 1000).toFixed(1);
  log.line(`${name.padEnd(16)} ${record.status.padEnd(8)} ${record.summary} (${seconds} s)`, {
    stage: name,
    status: record.status,
    seconds: Number(seconds),
    counts: record.counts,
  });
  for (const f of outcome.failures ?? []) log.failure(`  ${f}`, { stage: name });
  try {
    await recordStage(ctx.database, ctx.catalog, record);
  } catch (thrown) {
    log.failure(`  could not record stage ${name} in duckform_meta.pipeline_runs: ${messageOf(thrown)}`);
  }
  return error === undefined;
}
