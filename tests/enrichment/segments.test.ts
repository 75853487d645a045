import { afterEach, describe, expect, it } from "vitest";
import { analyzeUsers, type AnalyzeOptions } from "../../enrichment/analyze/analyze.ts";
import type { Person } from "../../loaders/sample/world.ts";
import { mockAnalyzeOptions, samplePeople, type TestEvent } from "../util/analysisDatabase.ts";
import { analysisDatabase, REPO, type TestMessage } from "../util/enrichment.ts";
import { startMockOpenai, stoppedMockOpenaiUrl, type MockOpenAI, type RecordedRequest } from "../util/mockOpenai.ts";
import { sqlRows } from "../util/project.ts";

const rows = (file: string, sql: string) => sqlRows(file, sql, "duckform");
const DAY = "2024-06-10";

let server: MockOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Each person writes `text(person)`, naming themselves (name, e-mail, handle), and plays one episode. */
function day(people: Person[], text: (p: Person, i: number) => string) {
  const messages: TestMessage[] = people.map((p, i) => ({
    message_key: `telegram:100:${i + 1}`,
    user_key: p.userId,
    sent_at: `${DAY}T09:${String(i % 60).padStart(2, "0")}:00Z`,
    text: text(p, i),
  }));
  const events: TestEvent[] = people.map((p) => ({ user_key: p.userId, event_type: "play", activity_date: DAY, episode_id: "ep_001" }));
  return { messages, events };
}

/** A few people download and share as well: behaviour that tells them apart. */
function varied(people: Person[]): TestEvent[] {
  return people.flatMap((p, i) =>
    i % 3 === 0
      ? [
          { user_key: p.userId, event_type: "download" as const, activity_date: DAY, episode_id: "ep_001" },
          { user_key: p.userId, event_type: "share" as const, activity_date: DAY, episode_id: "ep_001" },
        ]
      : [],
  );
}

const signed = (p: Person, i: number) =>
  `${p.displayName} here (${p.email}, ${p.slackUserId ?? p.userId}): the app crashes on resume, ${["and a sleep timer is missing", "and downloads fail offline"][i % 2]}`;

/** The mock server's analysis of DAY, retried once. */
const options = (file: string, url: string, extra: Partial<AnalyzeOptions> = {}) =>
  mockAnalyzeOptions(file, url, DAY, { retry: { retries: 1, minDelayMs: 10, maxDelayMs: 50 }, ...extra });

const body = (r: RecordedRequest) => r.body.toString("utf8");
const isLabelling = (r: RecordedRequest) => body(r).includes('"name":"segment_labels"');

function expectNoPii(sent: string, people: Person[]) {
  for (const p of people) {
    for (const value of [p.displayName, p.email, p.userId, p.slackUserId].filter((v): v is string => !!v))
      expect(sent).not.toContain(value);
    if (p.telegramName) expect(sent).not.toMatch(new RegExp(`(?<![\\p{L}])${p.telegramName}(?![\\p{L}])`, "u"));
  }
}

describe("personas from behaviour and message embeddings", () => {
  const { consenting, declining, all } = samplePeople();

  it("embeds only consenting people's messages, redacted, through /v1/embeddings, and labels the segments from aggregates; a rerun sends nothing", async () => {
    const people = [...consenting.slice(0, 8), ...declining.slice(0, 3)];
    const { messages, events } = day(people, signed);
    const file = await analysisDatabase(messages, [...events, ...varied(people)]);
    server = await startMockOpenai();

    const dry = await analyzeUsers(options(file, server.url, { dryRun: true }));
    expect(server.requests).toHaveLength(0);
    // 8 analyses, one batch of embeddings, one labelling request.
    expect(dry.requests).toBe(10);

    const result = await analyzeUsers(options(file, server.url));
    expect(result.segments).toMatchObject({ users: 11, embedded: 8, labelledBy: "provider" });
    const embeds = server.requests.filter((r) => r.path.endsWith("/embeddings"));
    expect(embeds).toHaveLength(1);
    const inputs = JSON.parse(body(embeds[0]!)).input as string[];
    expect(inputs).toHaveLength(8);
    for (const input of inputs) expect(input).toContain("the app crashes on resume");
    expectNoPii(embeds.map(body).join("\n"), all);

    // The labelling request holds aggregates: no person, no message.
    const labelling = server.requests.filter(isLabelling);
    expect(labelling).toHaveLength(1);
    const sent = body(labelling[0]!);
    expect(sent).not.toContain("crashes");
    expect(sent).not.toContain("telegram:100");
    expectNoPii(sent, all);
    const labels = await rows(file, "select distinct segment_label from enrichment.user_segments order by 1");
    expect(labels.length).toBeGreaterThanOrEqual(2);
    for (const l of labels) expect(String(l.segment_label)).toMatch(/^mock /);
    expect(await rows(file, "select count(*)::int as n from enrichment.segment_labels")).toEqual([{ n: 1 }]);
    expect(await rows(file, "select count(*)::int as n from enrichment.message_embeddings")).toEqual([{ n: 8 }]);

    const before = server.requests.length;
    const again = await analyzeUsers(options(file, server.url));
    expect(server.requests).toHaveLength(before);
    expect(again.requests).toBe(0);
    expect(again.segments).toMatchObject({ embedded: 8, labelledBy: "cache" });
    expect(await rows(file, "select distinct segment_label from enrichment.user_segments order by 1")).toEqual(labels);
  });

  it("keeps the rule labels when the provider's labels do not fit what was sent, and asks again next run", async () => {
    const { messages, events } = day(consenting.slice(0, 9), signed);
    const file = await analysisDatabase(messages, [...events, ...varied(consenting.slice(0, 9))]);
    server = await startMockOpenai({ faults: { unknownSegment: 1 } });
    const rejected = await analyzeUsers(options(file, server.url));
    expect(rejected.segments?.labelledBy).toBe("rules");
    expect(rejected.segments?.note).toMatch(/rule labels: the provider's labels were rejected \(labels for segments 999/);
    expect(rejected.status).toBe("complete");
    const labels = await rows(file, "select distinct segment_label from enrichment.user_segments");
    for (const l of labels) expect(String(l.segment_label)).not.toMatch(/^mock /);
    expect(await rows(file, "select count(*)::int as n from enrichment.segment_labels")).toEqual([{ n: 0 }]);

    server.setFaults({});
    const before = server.requests.length;
    const fixed = await analyzeUsers(options(file, server.url));
    // Analyses and embeddings are cached: only the labelling is asked again.
    expect(server.requests.slice(before).map(isLabelling)).toEqual([true]);
    expect(fixed.segments?.labelledBy).toBe("provider");
  });

  it("keeps the rule labels when the provider is down, and still writes the segments", async () => {
    const { messages, events } = day(consenting.slice(0, 9), signed);
    const file = await analysisDatabase(messages, events);
    const url = await stoppedMockOpenaiUrl();
    const down = await analyzeUsers(options(file, url));
    expect(down.status).toBe("provider_unavailable");
    expect(down.segments).toMatchObject({ users: 9, embedded: 0, labelledBy: "rules" });
    expect(await rows(file, "select count(*)::int as n from enrichment.user_segments")).toEqual([{ n: 9 }]);
  });

  it("offline, separates people who behave alike by what they write (hashed bag of words), and embeds nothing twice", async () => {
    const topics = ["history podcasts about ancient rome and the roman empire", "cooking recipes, kitchen tips and baking bread"];
    const people = consenting.slice(0, 6).concat(declining.slice(0, 6));
    const { messages, events } = day(people, (_, i) => `${topics[i % 2]} (${i})`);
    const file = await analysisDatabase(messages, events);
    const local = (): AnalyzeOptions => ({ projectDir: REPO, database: file, provider: { name: "local" }, date: DAY });
    const first = await analyzeUsers(local());
    expect(first.segments).toMatchObject({ users: 12, embedded: 12, labelledBy: "rules", embeddingModel: "local-hash-256-v1" });
    const segments = await rows(file, "select user_key, segment_id from enrichment.user_segments");
    const segmentOf = new Map(segments.map((s) => [String(s.user_key), Number(s.segment_id)]));
    const byTopic = [0, 1].map((t) => new Set(people.filter((_, i) => i % 2 === t).map((p) => segmentOf.get(p.userId))));
    expect(byTopic.map((s) => s.size)).toEqual([1, 1]);
    expect([...byTopic[0]!][0]).not.toBe([...byTopic[1]!][0]);

    await analyzeUsers(local());
    const runs = await rows(
      file,
      "select messages_pending::int as pending, messages_done::int as done from enrichment.enrichment_runs where task = 'embed' order by started_at",
    );
    expect(runs).toEqual([
      { pending: 12, done: 12 },
      { pending: 0, done: 0 },
    ]);
  });
});
