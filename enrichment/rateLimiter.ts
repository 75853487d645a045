import { setTimeout as sleep } from "node:timers/promises";

export interface RateLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/**
 * Paces requests to a provider: request starts evenly spaced at requests/min (no bursts that a
 * server's shorter window would refuse), a token bucket for tokens/min holding one second's worth
 * (a request larger than that waits for a full bucket and goes into debt), and a shared pause
 * when the server says Retry-After, so every caller backs off, not just the one that was told.
 * Callers are served in arrival order.
 */
export class RateLimiter {
  private nextStartAt = 0;
  private tokens: number;
  private tokensAt: number;
  private pausedUntil = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly interval: number;
  private readonly tokensPerMs: number;
  private readonly capacity: number;

  constructor(
    limits: RateLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.interval = limits.requestsPerMinute ? 60_000 / limits.requestsPerMinute : 0;
    this.tokensPerMs = limits.tokensPerMinute ? limits.tokensPerMinute / 60_000 : Infinity;
    this.capacity = limits.tokensPerMinute ? limits.tokensPerMinute / 60 : Infinity;
    this.tokens = this.capacity;
    this.tokensAt = now();
  }

  /** Waits until a request of `tokens` may start, then counts it; an aborted `signal` ends the wait, rejecting. */
  acquire(tokens = 0, signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.waitTurn(tokens, signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Nobody starts a request for `ms` from now (a server's Retry-After). */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }

  /** Corrects the token bucket once a request's real usage is known. */
  settle(estimatedTokens: number, actualTokens: number): void {
    if (Number.isFinite(this.capacity)) this.tokens -= actualTokens - estimatedTokens;
  }

  private async waitTurn(tokens: number, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.now();
      this.refill(now);
      const needed = Math.min(tokens, this.capacity);
      const tokenWait = this.tokens >= needed ? 0 : (needed - this.tokens) / this.tokensPerMs;
      const wait = Math.max(this.pausedUntil - now, this.nextStartAt - now, tokenWait);
      if (wait <= 0) {
        this.nextStartAt = Math.max(now, this.nextStartAt) + this.interval;
        this.tokens -= tokens;
        return;
      }
      await sleep(Math.ceil(wait), undefined, { signal });
    }
  }

  private refill(now: number): void {
    if (!Number.isFinite(this.capacity)) return;
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.tokensAt) * this.tokensPerMs);
    this.tokensAt = now;
  }
}
