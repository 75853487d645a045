import { afterEach, describe, expect, it } from "vitest";
import { enrich, type EnrichOptions, type EnrichResult } from "../../enrichment/enrich.ts";
import { DEFAULT_RETRY } from "../../enrichment/retry.ts";
import { startMockOpenai, type Faults, type MockOpenAI, type MockOpenAIOptions } from "../util/mockOpenai.ts";
import { duckform } from "../util/cli.ts";
import { distinctMessages, enrichmentDatabase, REPO } from "../util/enrichment.ts";
import { sqlRows } from "../util/project.ts";

const servers: MockOpenAI[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

async function mock(faults: Partial<Faults> = {}, options: MockOpenAIOptions = {}): Promise<MockOpenAI> {
  const server = await startMockOpenai({ seed: 7, faults, ...options });
  servers.push(server);
  return server;
}

const rows = (file: string, sql: string) => sqlRows(file, sql, "duckform");

/** enrich() against the mock with the default retries and concurrency, short timeouts and backoffs. */
function run(file: string, server: MockOpenAI, options: Partial<EnrichOptions> = {}) {
  return enrich({
    projectDir: REPO,
    database: file,
    provider: { name: "openai", model: "mock-model", baseURL: server.url, apiKey: "test-key", timeoutMs: 300, batchSize: 4 },
    retry: { minDelayMs: 5, maxDelayMs: 40 },
    ...options,
  });
}

/** How long the annotation task ran: opening the database and creating tables are not the provider's. */
const annotateMs = (result: EnrichResult) => result.tasks[0]!.finishedAt.getTime() - result.tasks[0]!.startedAt.getTime();

describe("a provider that accepts connections and never answers", () => {
  it("`duckform enrich --deadline 2` gives up after the deadline, says the provider is not answering, and exits 0", async () => {
    const file = await enrichmentDatabase(distinctMessages(6));
    const server = await mock({ timeout: 1 });
    const started = performance.now();
    // A per-request timeout longer than the deadline: the deadline is what ends the run.
    const hung = await duckform([
      "enrich",
      "--database",
      file,
      "--provider",
      "openai",
      "--base-url",
      server.url,
      "--timeout",
      "60",
      "--deadline",
      "2",
    ]);
    const elapsedMs = performance.now() - started;

    expect(hung.code).toBe(0);
    expect(elapsedMs).toBeGreaterThan(2000);
    // About 4 s alone, 14 s under the full suite on 2 cores (the CLI's start is most of it);
    // without the deadline the first request alone would hold it 60 s.
    expect(elapsedMs).toBeLessThan(40_000);
    expect(hung.stdout).toMatch(
      /^enrich: annotate \[openai gpt-4o-mini\]; 0 annotated, 0 reused, 0 dead-lettered, 6 left of 6 pending;.* — provider unavailable$/m,
    );
    expect(hung.stderr).toMatch(
      /^duckform: openai not answering: no request succeeded within the 2 s deadline \(raise --deadline if the model is only slow\)\. 6 messages were not annotated and stay pending/m,
    );
    expect(hung.stderr).not.toMatch(/dead-lettered|\n\s+at /);
    expect(server.requests).toHaveLength(1);
    expect(await rows(file, "select count(*) as n from enrichment.annotation_dead_letters")).toEqual([{ n: 0 }]);
  });

  it("with the default retries and concurrency, stops after 4 timeouts in a row: one request timeout, not 6 attempts a batch", async () => {
    const file = await enrichmentDatabase(distinctMessages(40));
    const server = await mock({ timeout: 1 });
    const result = await run(file, server, { retry: DEFAULT_RETRY });
    const task = result.tasks[0]!;

    expect(task).toMatchObject({ status: "provider_unavailable", messagesDone: 0, messagesDeadLettered: 0, messagesLeft: 40 });
    expect(task.note).toBe("openai not answering: 4 requests in a row timed out (raise --timeout if the model is only slow)");
    // Four batches in flight time out together, and no retry goes out: the backoff is aborted.
    expect(server.requests).toHaveLength(4);
    expect(task).toMatchObject({ requests: 4, retries: 0 });
    expect(annotateMs(result)).toBeLessThan(5000);
  });

  it("stops the embedding task too, without sending it anything, once annotation found the provider down", async () => {
    const file = await enrichmentDatabase(distinctMessages(8));
    const server = await mock({ timeout: 1 });
    const result = await run(file, server, { embeddings: true });
    expect(result.tasks.map((t) => [t.task, t.status, t.messagesLeft, t.note])).toEqual([
      ["annotate", "provider_unavailable", 8, expect.stringMatching(/^openai not answering: 4 requests in a row timed out/)],
      ["embed", "provider_unavailable", 8, expect.stringMatching(/^openai not answering: 4 requests in a row timed out/)],
    ]);
    expect(server.requests.filter((r) => r.path.endsWith("/embeddings"))).toEqual([]);
  });

  it("counts a server that sends headers and then stalls as a timeout, instead of waiting for the body for ever", async () => {
    const file = await enrichmentDatabase(distinctMessages(12));
    const server = await mock({ stall: 1 });
    const result = await run(file, server);
    expect(result.tasks[0]).toMatchObject({
      status: "provider_unavailable",
      messagesLeft: 12,
      note: expect.stringMatching(/4 requests in a row timed out/),
    });
    expect(annotateMs(result)).toBeLessThan(5000);
  });

  it("gives up at the deadline on a server that asks to wait longer than that", async () => {
    const file = await enrichmentDatabase(distinctMessages(8));
    const server = await mock({ rateLimit: 1 }, { retryAfterMs: 60_000 });
    const result = await run(file, server, { circuit: { deadlineMs: 500 } });
    expect(result.tasks[0]).toMatchObject({
      status: "provider_unavailable",
      messagesLeft: 8,
      note: expect.stringMatching(/within the 0\.5 s deadline/),
    });
    expect(annotateMs(result)).toBeLessThan(5000);
    expect(server.requests).toHaveLength(2);
  });

  it("keeps going past the deadline while requests succeed: the deadline is time without an answer, not the run's length", async () => {
    const file = await enrichmentDatabase(distinctMessages(24));
    const server = await mock({}, { latencyMs: 100 });
    const result = await run(file, server, { concurrency: 1, circuit: { deadlineMs: 250 } });
    expect(result.tasks[0]).toMatchObject({ status: "complete", messagesDone: 24, requests: 6 });
    expect(annotateMs(result)).toBeGreaterThan(600);
  });
});

describe("a provider that answers with something other than the API's JSON", () => {
  it("says the provider returned HTML, sends nothing more, leaves the messages pending and exits 0", async () => {
    const file = await enrichmentDatabase(distinctMessages(6));
    const server = await mock({ html: 1 });
    const out = await duckform(["enrich", "--database", file, "--provider", "openai", "--base-url", server.url]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/0 annotated, 0 reused, 0 dead-lettered, 6 left of 6 pending;.* — provider unavailable$/m);
    expect(out.stderr).toMatch(
      /^duckform: openai unavailable: provider returned HTML\/text, not JSON \(content-type text\/html; charset=utf-8\): "<!doctype html> <html><head><title>Chat UI.*" — is --base-url the API's\? It usually ends in \/v1\. 6 messages were not annotated/m,
    );
    expect(out.stderr).not.toContain("Cannot read properties");
    expect(server.requests).toHaveLength(1);
  });

  it("says the same of HTML sent as application/json", async () => {
    const file = await enrichmentDatabase(distinctMessages(6));
    const server = await mock({ notJson: 1 });
    const task = (await run(file, server)).tasks[0]!;
    expect(task).toMatchObject({ status: "provider_unavailable", messagesLeft: 6, messagesDeadLettered: 0 });
    expect(task.note).toMatch(
      /^openai unavailable: provider returned HTML\/text, not JSON \(though its content-type said JSON\): "Unexpected token '<'/,
    );
  });
});

describe("dead-letter reasons", () => {
  const reasons = (file: string) => rows(file, "select distinct reason, attempts from enrichment.annotation_dead_letters order by all");

  it("say an error that is never retried was tried once", async () => {
    const file = await enrichmentDatabase(distinctMessages(8));
    const server = await mock({ badRequest: 1 });
    const task = (await run(file, server)).tasks[0]!;
    expect(task).toMatchObject({ status: "complete", messagesDeadLettered: 8, requests: 2, retries: 0 });
    expect(await reasons(file)).toEqual([
      { reason: "HTTP 400: response_format json_schema is not supported by this model (injected) (1 attempt, not retryable)", attempts: 1 },
    ]);
  });

  it("count the attempts a retried error really made, and name an HTML error page for what it is", async () => {
    const file = await enrichmentDatabase(distinctMessages(4));
    const server = await mock({ badGateway: 1 });
    const task = (await run(file, server, { retry: { retries: 2, minDelayMs: 5, maxDelayMs: 10 } })).tasks[0]!;
    expect(task).toMatchObject({ status: "complete", messagesDeadLettered: 4, requests: 3, retries: 2 });
    expect(await reasons(file)).toEqual([
      {
        reason:
          'HTTP 502: provider returned HTML/text, not JSON: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gatew" (gave up after 3 attempts)',
        attempts: 3,
      },
    ]);

    const once = await enrichmentDatabase(distinctMessages(4));
    await run(once, server, { retry: { retries: 0 } });
    expect(await reasons(once)).toEqual([{ reason: expect.stringMatching(/^HTTP 502: .* \(gave up after 1 attempt\)$/), attempts: 1 }]);
  });
});
