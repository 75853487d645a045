import { hostname } from "node:os";

export interface Alert {
  exitCode: number;
  verdict: string;
  database: string;
  report: string | null;
  /** One line per stage that failed: its name and its summary (counts, never row contents). */
  stages: string[];
  /** Names of failed assertions, unit tests and actions: definitions, never data. */
  failed: string[];
}

/** The message: what failed, counts, where the report is. No row, no error text (which can quote data), no PII. */
export function alertText(alert: Alert): string {
  const lines = [
    `duckform pipeline failed on ${hostname()} (exit ${alert.exitCode}: ${alert.verdict})`,
    `database: ${alert.database}`,
    ...alert.stages.map((s) => `• ${s}`),
    ...(alert.failed.length > 0
      ? [`failed: ${alert.failed.slice(0, 20).join(", ")}${alert.failed.length > 20 ? `, and ${alert.failed.length - 20} more` : ""}`]
      : []),
    `report: ${alert.report ?? "(not written)"}`,
  ];
  return lines.join("\n");
}

/**
 * Posts one message to a Slack-compatible incoming webhook (`{"text": …}`), retrying a refused
 * connection, a timeout or a 5xx with backoff. Never throws: an alert that cannot be sent is
 * returned as its reason, for the log, and does not change the pipeline's exit code.
 */
export async function postAlert(
  url: string,
  alert: Alert,
  options: { attempts?: number; timeoutMs?: number; backoffMs?: number } = {},
): Promise<string | null> {
  const attempts = options.attempts ?? 3;
  let reason = "";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: alertText(alert) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      if (response.ok) return null;
      reason = `HTTP ${response.status}`;
      if (response.status < 500 && response.status !== 429) break;
    } catch (error) {
      reason = (error as Error).cause ? String((error as { cause: Error }).cause.message) : (error as Error).message;
    }
    if (attempt < attempts) await new Promise((r) => setTimeout(r, (options.backoffMs ?? 1000) * 2 ** (attempt - 1)));
  }
  return `alert not sent to the webhook after ${attempts} attempt(s): ${reason}`;
}
