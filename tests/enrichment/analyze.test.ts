import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { analyzeUsers, type AnalyzeOptions } from "../../enrichment/analyze/analyze.ts";
import { enrich } from "../../enrichment/enrich.ts";
import { runProject } from "../../runner/run.ts";
import type { Person } from "../../loaders/sample/world.ts";
import { mockAnalyzeOptions, samplePeople, type TestEvent } from "../util/analysisDatabase.ts";
import type { TestMessage } from "../util/enrichment.ts";
import { analysisDatabase, REPO } from "../util/enrichment.ts";
import { startMockOpenai, stoppedMockOpenaiUrl, type MockOpenAI } from "../util/mockOpenai.ts";
import { sqlRows } from "../util/project.ts";
import { tempDir } from "../util/tmp.ts";

const rows = (file: string, sql: string) => sqlRows(file, sql, "duckform");
const DAY = "2024-06-10";
const before = (days: number) => new Date(Date.parse(`${DAY}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);

let server: MockOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/**
 * A day of the sample's people: `consenting` and `declining` each write a message naming
 * themselves and a colleague (name, e-mail, handle) and play an episode; `anomalous` people also
 * hit their credit limit for the first time, say they are leaving, or fall silent after weeks of use.
 */
function day(consenting: Person[], declining: Person[], anomalous: Person[]) {
  const messages: TestMessage[] = [];
  const events: TestEvent[] = [];
  const everyone = [...consenting, ...declining, ...anomalous];
  everyone.forEach((p, i) => {
    const colleague = everyone[(i + 1) % everyone.length]!;
    messages.push({
      message_key: `telegram:100:${i + 1}`,
      user_key: p.userId,
      sent_at: `${DAY}T09:${String(i % 60).padStart(2, "0")}:00Z`,
      text: `${p.displayName} here (${p.email}, ${p.slackUserId ?? p.userId}): the app crashes on resume, ask @${colleague.displayName.split(" ")[0]!.toLowerCase()}_x or ${colleague.displayName}`,
    });
    events.push({ user_key: p.userId, event_type: "play", activity_date: DAY, episode_id: "ep_001" });
  });
  const [limited, leaving, fading] = anomalous;
  if (limited) events.push({ user_key: limited.userId, event_type: "credit_limit_hit", activity_date: DAY });
  if (leaving)
    messages.push({
      message_key: "telegram:100:900",
      user_key: leaving.userId,
      sent_at: `${DAY}T18:00:00Z`,
      text: "Honestly thinking about switching to another app, we may cancel",
    });
  if (fading)
    for (let d = 8; d < 28; d++)
      for (let k = 0; k < 4; k++)
        events.push({ user_key: fading.userId, event_type: "play", activity_date: before(d), episode_id: "ep_002" });
  return { messages, events };
}

/** The mock server's analysis of DAY. */
const options = (file: string, url: string, extra: Partial<AnalyzeOptions> = {}) => mockAnalyzeOptions(file, url, DAY, extra);

describe("analyze users against an OpenAI-compatible server on 127.0.0.1", () => {
  const { consenting, declining, all } = samplePeople();

  it("rejects an answer citing evidence outside the context, asks again, then dead-letters it; a later good answer clears it", async () => {
    const { messages, events } = day(consenting.slice(0, 3), [], []);
    const file = await analysisDatabase(messages, events);
    server = await startMockOpenai({ faults: { foreignEvidence: 1 } });
    const rejected = await analyzeUsers(options(file, server.url, { maxInvalidAttempts: 2 }));
    expect(rejected.days[0]).toMatchObject({ analysed: 0, deadLettered: 3 });
    expect(rejected.invalidResponses).toBe(6);
    expect(await rows(file, "select count(*) as n from enrichment.user_insights")).toEqual([{ n: 0 }]);
    const letters = await rows(file, "select reason, attempts from enrichment.user_insight_dead_letters order by user_key");
    expect(letters).toHaveLength(3);
    for (const l of letters) expect(l).toEqual({ reason: "evidence outside the context: m999 (after 2 answers)", attempts: 2 });

    server.setFaults({});
    const fixed = await analyzeUsers(options(file, server.url));
    expect(fixed.days[0]).toMatchObject({ analysed: 3, deadLettered: 0 });
    expect(await rows(file, "select count(*) as n from enrichment.user_insight_dead_letters")).toEqual([{ n: 0 }]);
    // Every key an insight cites is one of the day's messages.
    const cited = await rows(
      file,
      `select distinct unnest(from_json(output -> 'friction_points', '[{"evidence":["VARCHAR"]}]')).evidence as keys from enrichment.user_insights`,
    );
    const keys = new Set(messages.map((m) => m.message_key));
    for (const c of cited) for (const k of c.keys as string[]) expect(keys.has(k)).toBe(true);
  });

  it("never sends people without consent and counts them only in the day's report; no sample person's PII leaves the process", async () => {
    const { messages, events } = day(consenting.slice(0, 4), declining.slice(0, 3), []);
    const file = await analysisDatabase(messages, events);
    server = await startMockOpenai();
    const result = await analyzeUsers(options(file, server.url));
    expect(result.days[0]).toMatchObject({ active: 7, consenting: 4, selected: 4, analysed: 4 });
    expect(server.requests).toHaveLength(4);
    const analysed = await rows(file, "select user_key from enrichment.user_insights order by user_key");
    expect(analysed.map((r) => r.user_key)).toEqual(consenting.slice(0, 4).map((p) => p.userId));
    // Declining people's own messages were never in any request, not even redacted.
    const sent = server.requests.map((r) => r.body.toString("utf8")).join("\n");
    expect(sent).toContain("the app crashes on resume");
    expect(sent.split("the app crashes on resume").length - 1).toBe(4);
    for (const p of all) {
      for (const value of [p.displayName, p.email, p.userId, p.slackUserId].filter((v): v is string => !!v))
        expect(sent).not.toContain(value);
      if (p.telegramName) expect(sent).not.toMatch(new RegExp(`(?<![\\p{L}])${p.telegramName}(?![\\p{L}])`, "u"));
    }
    expect(await rows(file, "select active_users, consenting_users, selected_users from enrichment.user_analysis_runs")).toEqual([
      { active_users: 7, consenting_users: 4, selected_users: 4 },
    ]);
  });

  it("sends nothing on a rerun with nothing new, and only the changed person's day after one new message", async () => {
    const { messages, events } = day(consenting.slice(0, 5), [], []);
    const file = await analysisDatabase(messages, events);
    server = await startMockOpenai();
    await analyzeUsers(options(file, server.url));
    expect(server.requests).toHaveLength(5);
    const again = await analyzeUsers(options(file, server.url));
    expect(server.requests).toHaveLength(5);
    expect(again.days[0]).toMatchObject({ cached: 5, analysed: 0 });
    expect(again.requests).toBe(0);

    await rows(
      file,
      `insert into silver.int_messages select 'telegram:100:777', 'telegram', 'telegram:100', 'Test chat', '777', '${consenting[0]!.userId}',
       'Someone', timestamp '${DAY} 20:00:00', date '${DAY}', 'Would love a sleep timer', 'regular', false, false, now()`,
    );
    const changed = await analyzeUsers(options(file, server.url));
    expect(changed.days[0]).toMatchObject({ cached: 4, analysed: 1 });
    expect(server.requests).toHaveLength(6);
  });

  it("above max_users_per_day samples within the cap by stratum and keeps every anomaly, and says so", async () => {
    const anomalous = consenting.slice(10, 13);
    const { messages, events } = day(consenting.slice(0, 9), declining.slice(0, 2), anomalous);
    const file = await analysisDatabase(messages, events);
    // A churn-risk flag is a message enrichment categorized so: annotate offline first.
    await enrich({ projectDir: REPO, database: file, provider: { name: "local" } });
    server = await startMockOpenai();
    const result = await analyzeUsers(options(file, server.url, { maxUsersPerDay: 5 }));
    const report = result.days[0]!;
    expect(report).toMatchObject({ active: 14, consenting: 12, cap: 5, anomalies: 3, sampled: 2, selected: 5 });
    expect(report.note).toMatch(/above the cap of 5: 3 anomalies kept, 2 sampled across \d+ strata/);
    const chosen = await rows(file, "select user_key, selection, selection_reason from enrichment.user_insights order by user_key");
    expect(chosen.filter((c) => c.selection === "anomaly")).toEqual(
      [
        { user_key: anomalous[0]!.userId, selection: "anomaly", selection_reason: "first_credit_limit_hit" },
        { user_key: anomalous[1]!.userId, selection: "anomaly", selection_reason: "churn_risk" },
        { user_key: anomalous[2]!.userId, selection: "anomaly", selection_reason: "activity_drop" },
      ].sort((a, b) => (a.user_key < b.user_key ? -1 : 1)),
    );
    expect(chosen.filter((c) => c.selection === "sample")).toHaveLength(2);
    // Five user-days analysed; then the 14 people are segmented: one batch of embeddings, one labelling request.
    const kinds = server.requests.map((r) =>
      r.path.endsWith("/embeddings") ? "embeddings" : JSON.parse(r.body.toString()).response_format.json_schema.name,
    );
    expect(kinds.sort()).toEqual(["embeddings", "segment_labels", ...Array(5).fill("user_day_analysis")]);
    const [run] = await rows(file, "select max_users_per_day, sampled_users, anomaly_users from enrichment.user_analysis_runs");
    expect(run).toEqual({ max_users_per_day: 5, sampled_users: 2, anomaly_users: 3 });

    // The cap is daily: a week may hold the sum of its days' caps, and no day more than its own.
    const capCheck = async () => {
      const scratch = tempDir();
      const checked = await runProject(REPO, {
        database: file,
        actions: ["analysis_sample_over_cap"],
        resultsFile: join(scratch, "run_results.json"),
        concurrency: 1,
      });
      return { status: checked.actions[0]!.status, rows: await rows(file, "select * from quality.analysis_sample_over_cap") };
    };
    expect(await capCheck()).toEqual({ status: "success", rows: [] });
    const forge = (user: string, date: string, selection: string) =>
      rows(
        file,
        `insert into enrichment.user_insights select '${user}', date '${date}', 'forged-' || '${user}', content_hash, provider, model,
         prompt_version, '${selection}', null, output, sentiment, churn_risk, 0, 0, 0, run_id, now() from enrichment.user_insights limit 1`,
      );
    // The next day, under its cap: the week holds 2 + 4 sampled person-days of a cap of 10.
    const next = before(-1);
    await rows(
      file,
      `insert into enrichment.user_analysis_runs select run_id, date '${next}', * exclude (run_id, analysis_date) from enrichment.user_analysis_runs`,
    );
    for (const p of consenting.slice(20, 24)) await forge(p.userId, next, "sample");
    expect(await capCheck()).toEqual({ status: "success", rows: [] });
    // Four more on the first day: the week is within 10, the day is over its 5.
    for (const p of consenting.slice(24, 28)) await forge(p.userId, DAY, "sample");
    expect(await capCheck()).toMatchObject({
      status: "failed",
      rows: [{ sampled_person_days: 10, week_cap: 10, days_over_cap: [new Date(`${DAY}T00:00:00Z`)] }],
    });
  });

  it("stops cleanly when the provider is down, leaving everyone for the next run", async () => {
    const { messages, events } = day(consenting.slice(0, 3), [], []);
    const file = await analysisDatabase(messages, events);
    const url = await stoppedMockOpenaiUrl();
    const down = await analyzeUsers(options(file, url));
    expect(down.status).toBe("provider_unavailable");
    expect(down.days[0]).toMatchObject({ analysed: 0, deadLettered: 0, left: 3 });
    expect(await rows(file, "select count(*) as n from enrichment.user_insights")).toEqual([{ n: 0 }]);
    server = await startMockOpenai();
    expect((await analyzeUsers(options(file, server.url))).days[0]).toMatchObject({ analysed: 3, left: 0 });
  });
});
