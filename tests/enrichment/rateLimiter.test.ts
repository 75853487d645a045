import { describe, expect, it } from "vitest";
import { RateLimiter } from "../../enrichment/rateLimiter.ts";

describe("the rate limiter", () => {
  it("spaces request starts evenly at the requests-per-minute limit", async () => {
    const limiter = new RateLimiter({ requestsPerMinute: 1200 });
    const started: number[] = [];
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 6 }, () => limiter.acquire().then(() => started.push(performance.now() - t0))));
    // 1200/min is one every 50 ms: the sixth starts about 250 ms in, not at once.
    expect(started[5]!).toBeGreaterThanOrEqual(240);
    expect(started[5]!).toBeLessThan(1000);
  });

  it("holds every caller back for a Retry-After", async () => {
    const limiter = new RateLimiter({});
    limiter.pause(120);
    const t0 = performance.now();
    await limiter.acquire();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(110);
  });

  it("ends a caller's wait when its signal aborts, with the signal's reason", async () => {
    const limiter = new RateLimiter({});
    limiter.pause(60_000);
    const controller = new AbortController();
    const t0 = performance.now();
    const waiting = limiter.acquire(0, controller.signal);
    setTimeout(() => controller.abort(new Error("provider down")), 50);
    await expect(waiting).rejects.toMatchObject({ cause: { message: "provider down" } });
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it("waits for tokens at the tokens-per-minute limit", async () => {
    const limiter = new RateLimiter({ tokensPerMinute: 60_000 });
    const t0 = performance.now();
    await limiter.acquire(1000);
    await limiter.acquire(200);
    // The bucket holds one second (1000 tokens) and refills 1 token/ms: 200 more take ~200 ms.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(180);
  });
});
