import { APIConnectionError, APIConnectionTimeoutError, APIError } from "openai";
import pRetry from "p-retry";
import type { RateLimiter } from "./rateLimiter.ts";

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** First backoff; each next one doubles, times a random factor in [1, 2) (jitter). */
  minDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 5, minDelayMs: 500, maxDelayMs: 30_000 };

/** What went wrong with a request, for the retry decision and the dead-letter reason. */
export function describeFailure(error: unknown): string {
  if (error instanceof APIConnectionTimeoutError) return "timeout";
  if (error instanceof APIConnectionError) return `connection failed: ${causeOf(error)}`;
  if (error instanceof APIError && error.status) {
    // The client's message repeats the status, and is the raw body when that was not JSON.
    const body = error.message.startsWith(`${error.status} `) ? error.message.slice(`${error.status} `.length) : error.message;
    if (error.error === undefined && body !== "status code (no body)") {
      return `HTTP ${error.status}: provider returned HTML/text, not JSON: ${JSON.stringify(body.replace(/\s+/g, " ").trim().slice(0, 80))}`;
    }
    return `HTTP ${error.status}: ${body.slice(0, 200)}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** 429, 408, 409, 5xx, timeouts and dropped connections are worth another try; a 400 or 401 is not. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof APIConnectionError) return true;
  if (error instanceof APIError) {
    const status = error.status ?? 0;
    return status === 408 || status === 409 || status === 429 || status >= 500;
  }
  return false;
}

/** True when the provider could not be reached at all (refused, DNS), as opposed to a slow or failing one. */
export function isUnreachable(error: unknown): boolean {
  return error instanceof APIConnectionError && !(error instanceof APIConnectionTimeoutError);
}

/**
 * How long the server asked us to wait: `retry-after-ms` (OpenAI's), else `Retry-After` in
 * seconds or as an HTTP date. Undefined when it did not say.
 */
export function retryAfterMs(error: unknown, now = Date.now()): number | undefined {
  if (!(error instanceof APIError) || !error.headers) return undefined;
  const ms = Number(error.headers.get("retry-after-ms"));
  if (error.headers.get("retry-after-ms") !== null && Number.isFinite(ms) && ms >= 0) return ms;
  const header = error.headers.get("retry-after");
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Runs `attempt` with exponential backoff and jitter (p-retry) on retryable failures. A
 * Retry-After pauses the shared limiter, so the next attempt (and everybody else's) starts no
 * earlier than the server asked; the backoff comes on top of that. `signal` ends a backoff at
 * once, rejecting with its reason.
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  limiter: RateLimiter | null,
  signal: AbortSignal,
): Promise<T> {
  return pRetry(attempt, {
    signal,
    retries: policy.retries,
    factor: 2,
    minTimeout: policy.minDelayMs,
    maxTimeout: policy.maxDelayMs,
    randomize: true,
    onFailedAttempt: ({ error }) => {
      const wait = retryAfterMs(error);
      if (wait !== undefined) limiter?.pause(wait);
    },
    shouldRetry: ({ error }) => isRetryable(error),
  });
}

/**
 * Sends one request to a provider the one way annotate and embed do: through the shared rate
 * limiter and the circuit breaker, with retries. Each attempt counts in `summary` (and calls
 * `onAttempt` with its number) as it is sent, not when it is planned: a retry whose backoff
 * the breaker cut short was never sent.
 */
export function sendRequest<T>(
  send: (signal: AbortSignal) => Promise<T>,
  context: {
    limiter: RateLimiter | null;
    retry: RetryPolicy;
    circuit: { signal: AbortSignal; send<R>(request: (signal: AbortSignal) => Promise<R>): Promise<R> };
    summary: { requests: number; retries: number };
    estimatedTokens: number;
    onAttempt?: (attempt: number) => void;
  },
): Promise<T> {
  const { limiter, circuit, summary } = context;
  let attempts = 0;
  return withRetry(
    async () => {
      if (limiter) await limiter.acquire(context.estimatedTokens, circuit.signal);
      // The circuit refuses a retry that would start after the provider was found down.
      return circuit.send((signal) => {
        attempts += 1;
        if (attempts > 1) summary.retries += 1;
        summary.requests += 1;
        context.onAttempt?.(attempts);
        return send(signal);
      });
    },
    context.retry,
    limiter,
    circuit.signal,
  );
}

/** The most telling cause of a connection failure: a system error code (ECONNREFUSED), else the innermost message. */
function causeOf(error: APIConnectionError): string {
  let message = error.message;
  let cause: unknown = error.cause;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string") return code;
    message = cause.message;
    cause = cause.cause;
  }
  return message;
}
