import pRetry from "p-retry";
import { UsageError, messageOf } from "../runner/errors.ts";

/**
 * Errors that say "not now" rather than "wrong": a database file another process holds for a
 * moment (a `duckform run` by hand, a BI tool opened read-write), a busy or exhausted file
 * handle, a dropped connection to the enrichment server. Anything else (a SQL error, a corrupt
 * file, a bad config) fails the same way every time and is not retried; a failed assertion is
 * not an error at all, so data-quality failures are never retried.
 */
const TRANSIENT_CODES = new Set(["EBUSY", "EAGAIN", "EMFILE", "ENFILE", "ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN"]);
const TRANSIENT_MESSAGE =
  /is in use by (process|another process)|could not set lock on file|conflicting lock|ECONNRESET|ECONNREFUSED|ETIMEDOUT|socket hang up|fetch failed/i;

export function isTransient(error: unknown): boolean {
  if (error instanceof UsageError) return false;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code === "string" && TRANSIENT_CODES.has(code)) return true;
  return TRANSIENT_MESSAGE.test(messageOf(error));
}

/** Five retries, 0.25 s doubling to 4 s: about 8 s in all, long enough for a brief `duckform run` by hand to let go. */
export const STAGE_RETRY = { retries: 5, minTimeout: 250, factor: 2, maxTimeout: 4000 };

/**
 * Runs one stage's work, retrying it with backoff when it throws a transient error. A stage is
 * safe to run again: each commits in transactions and checkpoints, so an attempt that failed
 * left nothing half done.
 */
export function retryTransient<T>(
  work: () => Promise<T>,
  onRetry: (error: unknown, attempt: number, retriesLeft: number) => void,
): Promise<T> {
  return pRetry(() => work(), {
    ...STAGE_RETRY,
    randomize: true,
    shouldRetry: ({ error }) => isTransient(error),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (isTransient(error) && retriesLeft > 0) onRetry(error, attemptNumber, retriesLeft);
    },
  });
}
