import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCalendar } from "../../loaders/calendar/load.ts";
import { loadHubspot } from "../../loaders/hubspot/load.ts";
import { loadPostgres } from "../../loaders/postgres/load.ts";
import { Database } from "../../runner/database.ts";
import { runProject } from "../../runner/run.ts";
import { startPostgres } from "../util/postgres.ts";
import { sqlRows } from "../util/project.ts";
import { landedWarehouse } from "../util/warehouse.ts";
import { tempDir } from "../util/tmp.ts";

const FIXTURES = resolve(import.meta.dirname, "..", "fixtures");
const rows = (sql: string) => sqlRows(file, sql, "duckform");

let file: string;
let dir: string;
let failures: string[];

/** Product rows of two seed users: Priya Ali (Northwind Media) and Quinn Adeyemi (Kestrel Health), and one unknown user. */
const PRODUCT_ROWS = `
  insert into conversations values
    ('00000000-0000-0000-0000-00000000c001', 'user_0036', 'Transcribe the weekly show', '2024-03-12 10:00:00+00', '2024-03-12 10:30:00+00'),
    ('00000000-0000-0000-0000-00000000c002', 'user_0036', 'Clip for social', '2024-03-13 23:50:00+00', '2024-03-14 00:10:00+00'),
    ('00000000-0000-0000-0000-00000000c003', 'user_0012', 'Summaries', '2024-03-12 09:00:00+00', '2024-03-12 09:05:00+00'),
    ('00000000-0000-0000-0000-00000000c004', 'user_9999', 'Nobody we know', '2024-03-12 09:00:00+00', '2024-03-12 09:05:00+00');
  insert into messages values
    ('00000000-0000-0000-0000-0000000a0001', '00000000-0000-0000-0000-00000000c001', 'user', 'transcribe episode 12', 5, '2024-03-12 10:00:00+00', '2024-03-12 10:00:00+00'),
    ('00000000-0000-0000-0000-0000000a0002', '00000000-0000-0000-0000-00000000c001', 'assistant', 'done', 1, '2024-03-12 10:01:00+00', '2024-03-12 10:01:00+00'),
    ('00000000-0000-0000-0000-0000000a0003', '00000000-0000-0000-0000-00000000c002', 'user', 'a clip please', 3, '2024-03-13 23:50:00+00', '2024-03-13 23:50:00+00'),
    ('00000000-0000-0000-0000-0000000a0004', '00000000-0000-0000-0000-00000000c002', 'assistant', 'here', 1, '2024-03-14 00:05:00+00', '2024-03-14 00:05:00+00'),
    ('00000000-0000-0000-0000-0000000a0005', '00000000-0000-0000-0000-00000000c003', 'user', 'summarise', 1, '2024-03-12 09:00:00+00', '2024-03-12 09:00:00+00');
  insert into service_jobs values
    ('00000000-0000-0000-0000-0000000b0001', '00000000-0000-0000-0000-00000000c001', 'user_0036', 'transcribe', 'done', 12.50, '2024-03-12 10:00:30+00', '2024-03-12 10:01:00+00');
  insert into user_actions values
    ('00000000-0000-0000-0000-0000000d0001', 'user_0036', 'download', '{"media_id": "ep_0012"}', '2024-03-12 10:02:00'),
    ('00000000-0000-0000-0000-0000000d0002', 'user_0036', 'share', '{"media_id": "ep_0012"}', '2024-03-12 10:03:00'),
    ('00000000-0000-0000-0000-0000000d0003', 'user_0012', 'credit_limit', '{}', '2024-03-12 09:10:00');
`;

let kept: string;
afterAll(() => rmSync(kept, { recursive: true, force: true }));

beforeAll(async () => {
  let built: string;
  ({ dir, file: built } = await landedWarehouse());
  const server = await startPostgres();
  await server.pg.exec(PRODUCT_ROWS);
  const db = await Database.open(built, "duckform");
  try {
    await loadCalendar(db, [join(FIXTURES, "calendar-exports")]);
    await loadHubspot(db, [join(FIXTURES, "hubspot-exports")]);
    await loadPostgres(db, { url: server.url });
  } finally {
    db.close();
  }
  const results = await runProject(dir, { database: built, resultsFile: join(tempDir(), "run_results.json"), concurrency: 2 });
  failures = results.actions
    .filter((a) => a.status !== "success" && a.status !== "skipped")
    .map((a) => `${a.name}: ${a.status} ${JSON.stringify(a.error ?? "")}`);
  // tempDir()s go after each test; the built warehouse is kept for all of this file's tests.
  kept = mkdtempSync(join(tmpdir(), "duckform-companies-"));
  file = join(kept, "duckform.duckdb");
  copyFileSync(built, file);
}, 300_000);

describe("the warehouse with calendars, HubSpot and the product database", () => {
  it("builds every action, assertions included", () => {
    expect(failures).toEqual([]);
  });

  it("has one meeting per occurrence: the override in place of its original, the EXDATE and the cancelled ones left out, in UTC", async () => {
    expect(
      await rows(`select strftime(starts_at, '%Y-%m-%d %H:%M') as starts, duration_hours, is_override, company, external_attendees,
                         unmapped_domains
                  from gold.fct_meetings where event_uid = '4kq1c2b9v0s8r7p6o5n4m3l2k1@google.com' order by starts_at`),
    ).toEqual([
      {
        starts: "2024-03-11 09:00",
        duration_hours: 0.75,
        is_override: false,
        company: "Northwind Media",
        external_attendees: 2,
        unmapped_domains: ["gmail.com"],
      },
      {
        starts: "2024-03-19 15:00",
        duration_hours: 0.75,
        is_override: true,
        company: "Northwind Media",
        external_attendees: 1,
        unmapped_domains: [],
      },
      {
        starts: "2024-04-08 08:00",
        duration_hours: 0.75,
        is_override: false,
        company: "Northwind Media",
        external_attendees: 2,
        unmapped_domains: ["gmail.com"],
      },
    ]);
    // The pricing call was cancelled; the all-day holiday and the conference are meetings of no hours.
    expect(await rows(`select count(*)::int as n from gold.fct_meetings where summary like 'Cancelled%'`)).toEqual([{ n: 0 }]);
    expect(
      await rows(`select summary, meeting_date::varchar as day, duration_hours from gold.fct_meetings where is_all_day order by 2`),
    ).toEqual([
      { summary: "Tag der Arbeit", day: "2024-05-01", duration_hours: 0 },
      { summary: "Conference", day: "2024-06-10", duration_hours: 0 },
    ]);
    expect(await rows(`select email_domain, meetings, guests from gold.rpt_unmapped_meeting_domains order by 1`)).toEqual([
      { email_domain: "gmail.com", meetings: 2, guests: 1 },
    ]);
    // Kestrel's QBR: three monthly occurrences and the RDATE, in Pacific time.
    expect(
      await rows(
        `select strftime(starts_at, '%Y-%m-%d %H:%M') as starts from gold.fct_meetings where summary = 'Kestrel Health QBR' order by 1`,
      ),
    ).toEqual([
      { starts: "2024-03-05 17:00" },
      { starts: "2024-04-05 16:00" },
      { starts: "2024-05-05 16:00" },
      { starts: "2024-06-20 16:00" },
    ]);
  });

  it("links meeting guests to seed users by e-mail and to companies by domain", async () => {
    expect(
      await rows(`select distinct email, user_key, company, resolved_by, is_internal from silver.int_meeting_attendees
                  where email in ('viktor.khan@earshot.example', 'ops@tidewater.example', 'dana.kim@kestrel-health.example') order by 1`),
    ).toEqual([
      {
        email: "dana.kim@kestrel-health.example",
        user_key: null,
        company: "Kestrel Health",
        resolved_by: "calendar_domain",
        is_internal: false,
      },
      { email: "ops@tidewater.example", user_key: null, company: "Tidewater Studios", resolved_by: "calendar_domain", is_internal: false },
      {
        email: "viktor.khan@earshot.example",
        user_key: "user_0002",
        company: "Earshot",
        resolved_by: "calendar_domain",
        is_internal: true,
      },
    ]);
  });

  it("gives dim_companies HubSpot's fields, matched by domain or name", async () => {
    expect(
      await rows(`select company, hubspot_company_id, domain, industry, lifecycle_stage, owner from gold.dim_companies
                  where hubspot_company_id is not null order by 1`),
    ).toEqual([
      {
        company: "Bluefin Labs",
        hubspot_company_id: "18234567804",
        domain: "bluefin.example",
        industry: "COMPUTER_SOFTWARE",
        lifecycle_stage: "lead",
        owner: "Hiro Rossi",
      },
      {
        company: "Kestrel Health",
        hubspot_company_id: "18234567802",
        domain: "kestrel-health.example",
        industry: "Hospital & Health Care",
        lifecycle_stage: "opportunity",
        owner: "Felix Clarke",
      },
      {
        company: "Northwind Media",
        hubspot_company_id: "18234567801",
        domain: "northwind.example",
        industry: "Broadcast Media",
        lifecycle_stage: "customer",
        owner: "Felix Clarke",
      },
      {
        company: "Tidewater Studios",
        hubspot_company_id: "18234567803",
        domain: "tidewater.example",
        industry: "Entertainment",
        lifecycle_stage: "salesqualifiedlead",
        owner: "Viktor Khan",
      },
    ]);
  });

  it("adds up a company's activity per source to what its Slack, Telegram, calendar, HubSpot and product rows give", async () => {
    const company = "Northwind Media";
    const activity = await rows(`
      select source, sum(messages)::int as messages, sum(meetings)::int as meetings, sum(meeting_hours)::double as hours,
             sum(deals_opened)::int as opened, sum(deals_won)::int as won, sum(deal_amount_won)::double as amount,
             sum(product_events)::int as events
      from gold.fct_company_activity where company = '${company}' group by source order by source`);
    // What each source's own rows give, counted apart from fct_company_activity.
    const chat = await rows(`
      select m.source, count(*)::int as messages from gold.fct_messages m join gold.dim_chats c using (chat_key)
      where c.company = '${company}' and m.message_type = 'regular' group by 1 order by 1`);
    const appEvents = await rows(`
      select count(*)::int as n from gold.fct_user_interactions e join gold.dim_users u using (user_key) where u.company = '${company}'`);
    const appEventCount = Number(appEvents[0]!.n);
    const expected = [
      // Northwind weekly: 11 Mar, the 18th moved to the 19th, 8 Apr (25 Mar cancelled, 1 Apr excluded), 45 minutes each.
      { source: "calendar", messages: 0, meetings: 3, hours: 2.25, opened: 0, won: 0, amount: 0, events: 0 },
      ...(appEventCount > 0
        ? [{ source: "events", messages: 0, meetings: 0, hours: 0, opened: 0, won: 0, amount: 0, events: appEventCount }]
        : []),
      // The annual plan (won, 24,000) and the add-on (open).
      { source: "hubspot", messages: 0, meetings: 0, hours: 0, opened: 2, won: 1, amount: 24000, events: 0 },
      // Priya's 4 conversation messages, her download and share, and one service job.
      { source: "product", messages: 4, meetings: 0, hours: 0, opened: 0, won: 0, amount: 0, events: 3 },
      ...chat.map((c) => ({ source: c.source, messages: c.messages, meetings: 0, hours: 0, opened: 0, won: 0, amount: 0, events: 0 })),
    ].sort((a, b) => String(a.source).localeCompare(String(b.source)));
    expect(chat.length).toBe(2);
    expect(activity).toEqual(expected);
    const [summary] = await rows(`select * from gold.rpt_company_summary where company = '${company}'`);
    expect(summary).toMatchObject({ meetings: 3, deals: 2, open_deals: 1, deals_won: 1, product_conversations: 2 });
    expect(Number(summary!.amount_won)).toBe(24000);
  });
});
