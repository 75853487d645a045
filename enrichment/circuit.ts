import { APIConnectionTimeoutError, APIError } from "openai";
import { UnexpectedReply } from "./providers/provider.ts";
import { describeFailure, isUnreachable } from "./retry.ts";

/** When a provider counts as down, so that enrich stops sending to it and finishes. */
export interface CircuitPolicy {
  /** Timed-out requests in a row, whichever batches they belong to. */
  timeoutsBeforeDown: number;
  /** Batches in a row that gave up after all their retries (on 5xx, 429…). */
  failuresBeforeDown: number;
  /** The longest the provider may owe an answer with none succeeding, across requests and retries. */
  deadlineMs: number;
}

/**
 * Against a provider that accepts connections and never answers, the default concurrency of 4
 * sends 4 requests that time out together: 4 in a row, one full round, trips the breaker one
 * request timeout (60 s) after the start, where each batch's 6 attempts and backoff took 6.5
 * minutes and a run over 10. An answer in between resets the count, so a server that times out
 * one request in ten seldom trips it: in annotate.test.ts's fault run the longest run was 2. The
 * deadline catches what the count cannot: a run of slow 5xx answers, a Retry-After longer than
 * anyone will wait, a concurrency of 1 (4 timeouts and their backoff take about 4 minutes).
 */
export const DEFAULT_CIRCUIT: CircuitPolicy = { timeoutsBeforeDown: 4, failuresBeforeDown: 5, deadlineMs: 300_000 };

/**
 * The one owner of "is the provider down?" for an enrich run, shared by annotation and
 * embedding. Once it trips, the reason is kept, requests in flight and retry backoffs are aborted
 * through `signal`, and every later request is refused with ProviderDown.
 */
export interface Circuit {
  readonly signal: AbortSignal;
  /** Why the provider counts as down, once it does: "openai not answering: …". */
  readonly down: string | undefined;
  /** Sends one request, unless the provider is down, and counts how it went. */
  send<T>(request: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** A batch has given up on `error` after its retries. */
  gaveUp(error: unknown): void;
  /** Stops the deadline's clock. */
  close(): void;
}

/** Thrown instead of sending once the provider is down; the work is left for the next run. */
export class ProviderDown extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "ProviderDown";
  }
}

export function createCircuit(providerName: string, policy: CircuitPolicy): Circuit {
  const controller = new AbortController();
  let down: string | undefined;
  let timeouts = 0;
  let failures = 0;
  let inFlight = 0;
  let clock: NodeJS.Timeout | undefined;

  const trip = (reason: string) => {
    if (down) return;
    down = `${providerName} ${reason}`;
    stopClock();
    controller.abort(new ProviderDown(down));
  };
  const stopClock = () => {
    clearTimeout(clock);
    clock = undefined;
  };
  // The clock runs only while a request is out: time spent pacing under --rpm is not the provider's.
  const startClock = () => {
    if (clock || !Number.isFinite(policy.deadlineMs)) return;
    // setTimeout fires at once for anything above 2^31 - 1 ms (24.8 days).
    clock = setTimeout(
      () =>
        trip(
          `not answering: no request succeeded within the ${seconds(policy.deadlineMs)} deadline (raise --deadline if the model is only slow)`,
        ),
      Math.min(policy.deadlineMs, 2 ** 31 - 1),
    );
    clock.unref();
  };

  return {
    signal: controller.signal,
    get down() {
      return down;
    },
    async send(request) {
      if (down) throw new ProviderDown(down);
      inFlight += 1;
      startClock();
      try {
        const result = await request(controller.signal);
        timeouts = 0;
        failures = 0;
        stopClock();
        return result;
      } catch (error) {
        if (error instanceof APIConnectionTimeoutError) {
          timeouts += 1;
          if (timeouts >= policy.timeoutsBeforeDown) {
            trip(`not answering: ${timeouts} requests in a row timed out (raise --timeout if the model is only slow)`);
          }
        } else if (error instanceof APIError && error.status) {
          // An error status is an answer: the server is there.
          timeouts = 0;
        }
        // Whatever this request failed with, it ends as the breaker's decision once it has tripped.
        if (down) throw new ProviderDown(down);
        throw error;
      } finally {
        inFlight -= 1;
        if (inFlight > 0 && !down) startClock();
      }
    },
    gaveUp(error) {
      if (down || error instanceof ProviderDown) return;
      // Refused connections and a reply that is not the API's would meet every later request too.
      if (isUnreachable(error) || error instanceof UnexpectedReply) return trip(`unavailable: ${describeFailure(error)}`);
      failures += 1;
      if (failures >= policy.failuresBeforeDown)
        trip(`unavailable: ${failures} batches in a row gave up, the last on ${describeFailure(error)}`);
    },
    close: stopClock,
  };
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
