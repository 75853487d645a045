import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeUsers } from "../../enrichment/analyze/analyze.ts";
import { writeSummary } from "../../enrichment/analyze/dailySummary.ts";
import { plantedGroup } from "../../loaders/sample/chatter.ts";
import type { SampleManifest } from "../../loaders/sample/generate.ts";
import { people } from "../../loaders/sample/world.ts";
import { runProject } from "../../runner/run.ts";
import { duckform } from "../util/cli.ts";
import { REPO } from "../util/enrichment.ts";
import { sqlRows } from "../util/project.ts";
import { mockWebhook } from "../util/webhook.ts";

const rows = (file: string, sql: string) => sqlRows(file, sql, "duckform");

let dir: string;
let database: string;

/**
 * The bundled sample through `duckform pipeline`, then `analyze users` offline on the first
 * quarter (when the chats are busiest: the planted groups asking for transcripts and saying they
 * will leave) and the last (when free plans run out of credits), then the insight tables.
 */
beforeAll(async () => {
  // Shared by every test of the file (tempDir's folders go after each test).
  dir = join(mkdtempSync(join(tmpdir(), "duckform-insights-")), "project");
  for (const part of ["definitions", "includes", "dataform.json", "seeds"]) cpSync(join(REPO, part), join(dir, part), { recursive: true });
  database = join(dir, "duckform.duckdb");
  const pipeline = await duckform(["pipeline", dir]);
  expect(pipeline.code, pipeline.stderr).toBe(0);
  for (const date of ["2024-03-31", "2024-12-31"])
    await analyzeUsers({ projectDir: dir, database, provider: { name: "local" }, date, days: 91 });
  const run = await runProject(dir, { database, tags: ["insights"], includeDependencies: true, resultsFile: join(dir, "insights.json") });
  expect(run.actions.filter((a) => a.status !== "success").map((a) => a.name)).toEqual([]);
}, 900_000);

afterAll(() => rmSync(join(dir, ".."), { recursive: true, force: true }));

/** Labels of a `label (people)` list column of rpt_pmf_signals, people summed over the quarter's weeks, most first. */
async function quarterTop(column: string, quarter: number): Promise<string[]> {
  const weeks = await rows(
    database,
    `select ${column} as top from gold.rpt_pmf_signals where year(week_start) = 2024 and quarter(week_start) = ${quarter}`,
  );
  const sums = new Map<string, number>();
  for (const w of weeks)
    for (const entry of w.top as string[]) {
      const [, label, n] = /^(.*) \((\d+)\)$/.exec(entry)!;
      sums.set(label!, (sums.get(label!) ?? 0) + Number(n));
    }
  return [...sums].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([label]) => label);
}

/** The segment most of a group's people are in on a segmentation day, and how much of that segment the group is. */
async function segmentOf(userIds: string[], day: string): Promise<{ label: string; purity: number }> {
  const list = userIds.map((u) => `'${u}'`).join(", ");
  const [found] = await rows(
    database,
    `select segment_label, count(*) as n from enrichment.user_segments
     where segmented_on = '${day}' and user_key in (${list}) group by all order by n desc, segment_label limit 1`,
  );
  const [segment] = await rows(
    database,
    `select count(*) as n from enrichment.user_segments where segmented_on = '${day}' and segment_label = '${String(found?.segment_label)}'`,
  );
  return { label: String(found?.segment_label), purity: Number(found?.n ?? 0) / Number(segment?.n ?? 1) };
}

describe("insights on the bundled sample, offline", () => {
  const group = (name: string) =>
    people()
      .filter((p) => plantedGroup(p) === name)
      .map((p) => p.userId);

  it("gives the planted behaviours as the top signals of rpt_pmf_signals", async () => {
    expect((await quarterTop("top_friction_points", 1)).slice(0, 2).sort()).toEqual(["considering leaving", "missing: transcript"]);
    expect((await quarterTop("top_friction_points", 4))[0]).toBe("credit limit");
    expect(await quarterTop("top_pay_signals", 4)).toContain("credit exhaustion");
    const [q1] = await rows(
      database,
      "select sum(churn_risk_users)::int as churn, sum(credit_exhausted_users)::int as exhausted from gold.rpt_pmf_signals where week_start between '2024-01-01' and '2024-03-31'",
    );
    expect(q1!.churn).toBeGreaterThan(10);
    // The sample's upgrades all follow a credit-limit hit: the paywall converting.
    const [year] = await rows(
      database,
      "select sum(upgraded_users)::int as upgraded, sum(upgraded_after_limit_users)::int as after_limit from gold.rpt_pmf_signals",
    );
    expect(year!.upgraded).toBeGreaterThan(0);
    expect(year!.after_limit).toBe(year!.upgraded);
  });

  it("puts each planted group in its own segment", async () => {
    const transcripts = await segmentOf(group("wants_transcripts"), "2024-03-31");
    const leaving = await segmentOf(group("leaving"), "2024-03-31");
    const limited = await rows(
      database,
      "select distinct user_key from silver.int_events__deduplicated where event_type = 'credit_limit_hit' and activity_date > date '2024-10-01'",
    );
    const credit = await segmentOf(
      limited.map((r) => String(r.user_key)),
      "2024-12-31",
    );
    expect(transcripts).toMatchObject({ label: "feature seekers" });
    expect(leaving).toMatchObject({ label: "at risk" });
    expect(credit).toMatchObject({ label: "credit-limited" });
    // Each segment is mostly its planted group, not a crowd the group happens to fall into.
    for (const s of [transcripts, leaving, credit]) expect(s.purity).toBeGreaterThanOrEqual(0.5);
    const dims = await rows(database, "select segment_label from gold.dim_user_segments");
    expect(dims.map((d) => d.segment_label)).toContain("credit-limited");
  });

  it("cites only messages of fct_messages, and no one without consent, as the assertions check", async () => {
    const [stats] = await rows(
      database,
      `select count(*) filter (where len(evidence_message_keys) > 0)::int as cited, count(distinct user_key)::int as people from gold.fct_user_insights`,
    );
    expect(stats!.cited).toBeGreaterThan(100);
    const declining = people()
      .filter((p) => !p.analysisConsent)
      .map((p) => `'${p.userId}'`);
    expect(
      await rows(database, `select count(*)::int as n from gold.fct_user_insights where user_key in (${declining.join(", ")})`),
    ).toEqual([{ n: 0 }]);
    expect(await rows(database, "select count(*)::int as n from quality.insight_evidence_outside_messages")).toEqual([{ n: 0 }]);
  });

  it("writes a day's summary of aggregates that names nobody", async () => {
    const { file, markdown } = await writeSummary({ projectDir: dir, database, date: "2024-02-11" });
    expect(readFileSync(file!, "utf8")).toBe(markdown);
    expect(markdown).toContain("## Top friction");
    expect(markdown).toMatch(/missing: transcript: \d+ people/);
    for (const p of people()) {
      for (const value of [p.displayName, p.email, p.userId, p.slackUserId].filter((v): v is string => !!v))
        expect(markdown).not.toContain(value);
      if (p.telegramName) expect(markdown).not.toMatch(new RegExp(`(?<![\\p{L}])${p.telegramName}(?![\\p{L}])`, "u"));
    }
  });

  it("posts the summary to a webhook once, and again only when it says something new", async () => {
    const webhook = await mockWebhook();
    const first = await writeSummary({ projectDir: dir, database, date: "2024-02-18", webhook: webhook.url });
    const again = await writeSummary({ projectDir: dir, database, date: "2024-02-18", webhook: webhook.url });
    expect([first.posted, again.posted]).toEqual([true, false]);
    expect(again.note).toBe("nothing new since the last post: not posted");
    expect(webhook.posts).toEqual([{ text: first.markdown }]);
    const next = await writeSummary({ projectDir: dir, database, date: "2024-02-25", webhook: webhook.url });
    expect(next.posted).toBe(true);
    expect(webhook.posts).toHaveLength(2);
  });
});

describe("the bundled sample's calendar, HubSpot and product database", () => {
  it("land through the pipeline, and each planted defect is a rejected row or an unmapped domain, as manifest.json lists it", async () => {
    const manifest = JSON.parse(readFileSync(join(dir, "data", "sample", "manifest.json"), "utf8")) as SampleManifest;
    const { calendar, hubspot, product } = manifest;
    const rejected = await rows(database, "select source, stage, reason, count(*)::int as n from quality.rejected_rows group by all");
    const reasons = (source: string) =>
      rejected
        .filter((r) => r.source === source)
        .map((r) => `${r.stage}: ${r.stage === "load" ? "quarantined" : r.reason} ×${r.n}`)
        .sort();
    expect(reasons("calendar_events")).toEqual(["load: quarantined ×1", "validation: ends_before_start ×1"]);
    expect(reasons("hubspot_companies")).toEqual(["validation: missing_name_and_domain ×1"]);
    expect(reasons("hubspot_contacts")).toEqual(["load: quarantined ×1", "validation: bad_email ×1"]);
    expect(reasons("hubspot_deals")).toEqual(["validation: bad_amount ×1"]);
    expect(reasons("postgres_service_jobs")).toEqual(["validation: negative_credits ×1"]);
    expect(reasons("postgres_user_actions")).toEqual(["validation: missing_user_id ×1"]);
    expect(calendar.planted.unparseable).toHaveLength(1);
    expect(hubspot.planted.invalid.map((i) => i.error).sort()).toEqual(["bad_amount", "bad_email", "missing_name_and_domain"]);
    expect(product.planted.invalid.map((i) => i.error).sort()).toEqual(["missing_user_id", "negative_credits"]);

    expect(await rows(database, "select email_domain from gold.rpt_unmapped_meeting_domains")).toEqual(
      calendar.planted.unmappedDomains.map((d) => ({ email_domain: d })),
    );
    // Each series' ten Mondays less its EXDATE (the moved one stays, moved); demos, the offsite and the prospect's call once; the cancelled call never.
    const [meetings] = await rows(
      database,
      "select count(*)::int as n, count(*) filter (where is_override)::int as moved from gold.fct_meetings",
    );
    expect(meetings).toEqual({ n: calendar.recurring * 9 + calendar.events - calendar.recurring * 2 - 3, moved: calendar.moved });
    expect(await rows(database, "select count(*)::int as n, sum(amount) filter (where is_won)::double as won from gold.fct_deals")).toEqual(
      [{ n: hubspot.deals - 1, won: hubspot.won.amount }],
    );
    expect(await rows(database, "select count(*)::int as n from gold.fct_conversations")).toEqual([{ n: product.conversations }]);
    const sources = await rows(database, "select distinct source from gold.fct_company_activity order by 1");
    expect(sources.map((s) => s.source)).toEqual(["calendar", "events", "hubspot", "product", "slack", "telegram"]);
  });
});
