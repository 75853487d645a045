import { afterEach, describe, expect, it } from "vitest";
import { enrich, type EnrichOptions } from "../../enrichment/enrich.ts";
import { startMockOpenai, type MockOpenAI, type MockOpenAIOptions } from "../util/mockOpenai.ts";
import { sqlRows } from "../util/project.ts";
import { distinctMessages, enrichmentDatabase, REPO, type TestMessage } from "../util/enrichment.ts";

const servers: MockOpenAI[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close();
});

async function mock(options: MockOpenAIOptions = {}): Promise<MockOpenAI> {
  const server = await startMockOpenai({ seed: 7, ...options });
  servers.push(server);
  return server;
}

const rows = (file: string, sql: string) => sqlRows(file, sql, "duckform");

/** enrich() against the mock with small timeouts and backoffs, so faults cost milliseconds. */
function run(file: string, server: MockOpenAI, options: Partial<EnrichOptions> = {}) {
  return enrich({
    projectDir: REPO,
    database: file,
    provider: { name: "openai", model: "mock-model", baseURL: server.url, apiKey: "test-key", timeoutMs: 250, batchSize: 4 },
    concurrency: 4,
    retry: { retries: 2, minDelayMs: 5, maxDelayMs: 40 },
    maxInvalidAttempts: 2,
    ...options,
  });
}

describe("enrich against an OpenAI-compatible server", () => {
  it("annotates or dead-letters every message under 30% 429/5xx/timeouts and 10% malformed answers, then annotates the dead letters once the faults stop", async () => {
    const messages = distinctMessages(200);
    const file = await enrichmentDatabase(messages);
    const server = await mock({
      retryAfterMs: 20,
      faults: { rateLimit: 0.1, serverError: 0.1, timeout: 0.1, malformed: 0.07, missingIds: 0.03 },
    });

    // One retry per request and two answers per text, so that some texts are bound to fail. A
    // tenth of requests timing out can put 4 in a row: that the breaker may call down (circuit.test.ts).
    const first = (
      await run(file, server, { retry: { retries: 1, minDelayMs: 5, maxDelayMs: 40 }, circuit: { timeoutsBeforeDown: Infinity } })
    ).tasks[0]!;
    expect(first.status).toBe("complete");
    expect(first.retries).toBeGreaterThan(0);
    expect(first.invalidResponses).toBeGreaterThan(0);
    const outcomes = server.requests.map((r) => r.outcome);
    expect([...new Set(outcomes)].sort()).toEqual(["malformed", "missingIds", "ok", "rateLimit", "serverError", "timeout"]);
    const share = (kinds: string[]) => outcomes.filter((o) => kinds.includes(o)).length / outcomes.length;
    expect(share(["rateLimit", "serverError", "timeout"])).toBeGreaterThan(0.2);
    expect(share(["malformed", "missingIds"])).toBeGreaterThan(0.05);

    const [counts] = await rows(
      file,
      `select (select count(distinct message_key) from enrichment.message_annotations) as annotated,
              (select count(distinct message_key) from enrichment.annotation_dead_letters) as dead,
              (select count(*) from enrichment.annotation_dead_letters where reason is null or reason = '') as without_reason,
              (select count(*) from silver.int_messages m where not exists (select 1 from enrichment.message_annotations a where a.message_key = m.message_key)
                 and not exists (select 1 from enrichment.annotation_dead_letters d where d.message_key = m.message_key)) as lost`,
    );
    expect(counts).toMatchObject({ lost: 0, without_reason: 0 });
    expect(Number(counts!.annotated) + Number(counts!.dead)).toBe(200);
    expect(first.messagesDone + first.messagesDeadLettered).toBe(200);
    expect(counts!.dead).toBeGreaterThan(0);
    const reasons = await rows(
      file,
      "select distinct regexp_extract(reason, '^(timeout|HTTP [0-9]+|malformed JSON|missing from the response|invalid annotation)') as kind from enrichment.annotation_dead_letters",
    );
    expect(reasons.every((r) => r.kind !== "")).toBe(true);

    server.setFaults({});
    const second = (await run(file, server)).tasks[0]!;
    expect(second).toMatchObject({
      status: "complete",
      messagesPending: counts!.dead,
      messagesDone: counts!.dead,
      messagesDeadLettered: 0,
    });
    expect(await rows(file, "select count(distinct message_key) as n from enrichment.message_annotations")).toEqual([{ n: 200 }]);
    expect(await rows(file, "select count(*) as n from enrichment.annotation_dead_letters")).toEqual([{ n: 0 }]);

    const before = server.requests.length;
    const third = (await run(file, server)).tasks[0]!;
    expect(server.requests.length).toBe(before);
    expect(third).toMatchObject({ messagesPending: 0, requests: 0, inputTokens: 0 });
  });

  it("makes no request for a rerun with nothing new, nor for a text it has annotated before", async () => {
    const messages: TestMessage[] = [
      ...distinctMessages(10),
      { message_key: "telegram:chat-1:copy1", text: "Would love a sleep timer" },
      { message_key: "telegram:chat-1:copy2", text: "Would love a   sleep timer " },
    ];
    const file = await enrichmentDatabase(messages);
    const server = await mock();
    const first = (await run(file, server)).tasks[0]!;
    // 11 distinct texts (whitespace does not make a text new), 4 a request.
    expect(first).toMatchObject({ messagesPending: 12, messagesDone: 12, texts: 11, requests: 3 });
    const sent = server.requests.flatMap((r) => JSON.parse(JSON.parse(r.body.toString()).messages[1].content).messages);
    expect(sent).toHaveLength(11);

    const second = (await run(file, server)).tasks[0]!;
    expect(second).toMatchObject({ messagesPending: 0, requests: 0 });
    expect(server.requests).toHaveLength(3);
  });

  it("sends no email, phone number, user id or known name: only placeholders, and puts the originals back in the entities", async () => {
    const users = [
      {
        user_key: "user_0042",
        user_id: "user_0042",
        display_name: "Hiro Rossi",
        email: "hiro.rossi@earshot.example",
        telegram_name: "Hiro",
        slack_user_id: "U0C87D3E3D",
      },
      {
        user_key: "slack:U0986FD339",
        user_id: null,
        display_name: "Lars Ramos",
        email: null,
        telegram_name: null,
        slack_user_id: "U0986FD339",
      },
    ];
    const secrets = [
      "hiro.rossi@earshot.example",
      "jane@example.org",
      "+44 20 7946 0958",
      "555-867-5309",
      "user_0042",
      "U0C87D3E3D",
      "U0986FD339",
      "Hiro",
      "Rossi",
      "Lars Ramos",
      "@hiro_r",
    ];
    const messages: TestMessage[] = [
      { message_key: "m1", text: "Mail hiro.rossi@earshot.example or jane@example.org about the crash", user_key: "user_0042" },
      { message_key: "m2", text: "Call me on +44 20 7946 0958 or 555-867-5309, the player freezes" },
      { message_key: "m3", text: "user_0042 says sync is broken, ask <@U0C87D3E3D> and U0986FD339" },
      { message_key: "m4", text: "Hiro Rossi and Lars Ramos love the new player; ping @hiro_r" },
      { message_key: "m5", text: "hiro thinks the credit limit is too low, Rossi agrees" },
    ];
    const file = await enrichmentDatabase(messages, users);
    const server = await mock();
    await run(file, server);
    expect(server.requests.length).toBeGreaterThan(0);
    const bytes = Buffer.concat(server.requests.map((r) => r.body)).toString("utf8");
    for (const secret of secrets) expect(bytes, secret).not.toContain(secret);
    expect(bytes.toLowerCase()).not.toContain("hiro");
    expect(bytes).toContain("[EMAIL_1]");
    expect(bytes).toContain("[PHONE_2]");
    expect(bytes).toContain("[PERSON_1]");
    // Stored entities carry the originals: the rules' identifiers and the model's restored people.
    const entities = await rows(
      file,
      "select message_key, e.name, e.type from (select message_key, unnest(entities) as e from enrichment.message_annotations) order by all",
    );
    expect(entities).toEqual(
      expect.arrayContaining([
        { message_key: "m1", name: "hiro.rossi@earshot.example", type: "email" },
        { message_key: "m2", name: "+44 20 7946 0958", type: "phone" },
        { message_key: "m4", name: "Hiro Rossi", type: "person" },
        { message_key: "m4", name: "@hiro_r", type: "handle" },
      ]),
    );
  });

  it("stops cleanly at a token budget and leaves the rest for the next run", async () => {
    const file = await enrichmentDatabase(distinctMessages(40));
    const server = await mock();
    const first = (await run(file, server, { budget: { kind: "tokens", limit: 3000 }, concurrency: 1 })).tasks[0]!;
    expect(first.status).toBe("budget_reached");
    expect(first.inputTokens + first.outputTokens).toBeLessThanOrEqual(3000);
    expect(first.messagesDone).toBeGreaterThan(0);
    expect(first.messagesDone + first.messagesLeft).toBe(40);
    const second = (await run(file, server)).tasks[0]!;
    expect(second).toMatchObject({ status: "complete", messagesPending: first.messagesLeft, messagesDone: first.messagesLeft });
    const usage = await rows(
      file,
      "select status, messages_done, input_tokens > 0 as counted from enrichment.enrichment_runs order by started_at",
    );
    expect(usage).toEqual([
      { status: "budget_reached", messages_done: first.messagesDone, counted: true },
      { status: "complete", messages_done: first.messagesLeft, counted: true },
    ]);
  });

  it("estimates requests, tokens and cost on a dry run without sending anything", async () => {
    const file = await enrichmentDatabase(distinctMessages(30));
    const server = await mock();
    const dry = (await run(file, server, { dryRun: true, prices: { input: 1, output: 2 } })).tasks[0]!;
    expect(server.requests).toHaveLength(0);
    expect(dry).toMatchObject({ status: "dry_run", messagesPending: 30, texts: 30, requests: 8, messagesDone: 0 });
    expect(dry.inputTokens).toBeGreaterThan(1000);
    expect(dry.costUsd).toBeCloseTo((dry.inputTokens * 1 + dry.outputTokens * 2) / 1e6, 10);
    expect(await rows(file, "select count(*) as n from enrichment.message_annotations")).toEqual([{ n: 0 }]);
    const limited = (await run(file, server, { dryRun: true, limit: 10 })).tasks[0]!;
    expect(limited).toMatchObject({ messagesPending: 30, texts: 10, requests: 3, messagesLeft: 30 });
  });

  it("finishes when the provider is down, says so, and leaves every message pending rather than dead", async () => {
    const file = await enrichmentDatabase(distinctMessages(12));
    const server = await mock();
    const url = server.url;
    await servers.pop()!.close();
    const result = await enrich({
      projectDir: REPO,
      database: file,
      provider: { name: "openai", model: "mock-model", baseURL: url, apiKey: "k", timeoutMs: 250, batchSize: 4 },
      retry: { retries: 1, minDelayMs: 5, maxDelayMs: 10 },
    });
    const task = result.tasks[0]!;
    expect(task.status).toBe("provider_unavailable");
    expect(task.note).toMatch(/connection failed/);
    expect(task).toMatchObject({ messagesDone: 0, messagesDeadLettered: 0, messagesLeft: 12 });
    expect(await rows(file, "select status from enrichment.enrichment_runs")).toEqual([{ status: "provider_unavailable" }]);
  });

  it("honours the server's rate limit: 429s with Retry-After slow it down but lose nothing", async () => {
    const file = await enrichmentDatabase(distinctMessages(24));
    const server = await mock({ requestsPerMinute: 600, burst: 1 });
    const task = (await run(file, server, { concurrency: 6, retry: { retries: 8, minDelayMs: 5, maxDelayMs: 50 } })).tasks[0]!;
    expect(server.requests.some((r) => r.outcome === "rate_limited")).toBe(true);
    expect(task).toMatchObject({ status: "complete", messagesDone: 24, messagesDeadLettered: 0 });
  });
});
