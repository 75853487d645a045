import cliProgress from "cli-progress";
import type { Progress } from "./summary.ts";

/**
 * A progress bar on stderr with messages, tokens, cost and rate; nothing when stderr is not a
 * terminal (CI logs, pipes) so output stays clean. Call `stop()` in `finally`.
 */
export function createProgressBar(enabled = process.stderr.isTTY === true): { update: (p: Progress) => void; stop: () => void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: "{task} |{bar}| {value}/{total} msgs | {tokens} tokens | ${cost} | {rate} msg/s | {elapsed}s",
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let task: string | null = null;
  return {
    update(p) {
      const payload = {
        task: p.task,
        tokens: p.inputTokens + p.outputTokens,
        cost: p.costUsd.toFixed(4),
        rate: p.elapsedMs > 0 ? ((p.done * 1000) / p.elapsedMs).toFixed(1) : "0.0",
        elapsed: (p.elapsedMs / 1000).toFixed(0),
      };
      if (task !== p.task) {
        if (task !== null) bar.stop();
        task = p.task;
        bar.start(p.total, p.done, payload);
      } else {
        bar.setTotal(p.total);
        bar.update(p.done, payload);
      }
    },
    stop() {
      if (task !== null) bar.stop();
    },
  };
}
