import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCalendar } from "../../../loaders/calendar/load.ts";
import { parseCalendar } from "../../../loaders/calendar/parseCalendar.ts";
import { queryRows, tempDatabase } from "../../util/tmp.ts";

const REAL = resolve(import.meta.dirname, "../../fixtures/calendar-real");

const events = (file: string) =>
  parseCalendar(readFileSync(resolve(REAL, file), "utf8")).map((r) => (r.json ? { line: r.line, ...JSON.parse(r.json) } : r));

describe("parseCalendar on real exports (tests/fixtures/calendar-real)", () => {
  it("expands Zimbra's monthly series with its RDATE lines (a PERIOD among them) and EXDATEs, across DST, and keeps its overrides", () => {
    const [series, ...overrides] = events("recur_instances.ics");
    const starts = series.occurrences as string[];
    expect(starts.slice(0, 8)).toEqual([
      "2012-10-02T17:00:00Z",
      "2012-11-05T18:00:00Z",
      "2012-11-06T18:00:00Z",
      "2012-11-10T18:00:00Z",
      "2012-11-30T18:00:00Z",
      // 4 December 2012, 5 February and 2 April 2013 are excluded.
      "2013-01-01T18:00:00Z",
      "2013-03-05T18:00:00Z",
      "2013-05-07T17:00:00Z",
    ]);
    expect(starts).toContain("2023-11-23T09:00:00Z");
    expect(starts).toContain("2023-11-25T09:00:00Z");
    expect(starts.at(-1)).toBe("2030-12-03T18:00:00Z");
    expect(series.attendees.map((a: { email: string }) => a.email)).toEqual([
      "calmozilla1@gmail.com",
      "james@lightsofapollo.com",
      "iam.revelation@gmail.com",
    ]);
    expect(overrides.map((o) => [o.recurrence_id, o.starts_at])).toEqual([
      ["2012-10-02T17:00:00Z", "2012-10-02T22:00:00Z"],
      ["2012-11-05T18:00:00Z", expect.stringMatching(/^2012-11-0\dT/)],
    ]);
  });

  it("reads Google's birthdays: all-day dates, RDATEs written with a Z, and overrides of a series the file does not hold", () => {
    const [series, ...overrides] = events("google_birthday.ics");
    expect(series).toMatchObject({ is_all_day: true, starts_at: "2014-12-10", occurrences: ["2012-12-10", "2013-12-10", "2014-12-10"] });
    expect(overrides.map((o) => [o.uid, o.recurrence_id, o.starts_at])).toEqual([
      ["BIRTHDAY_79d389868f96182e@google.com", "2012-12-10", "2012-12-10"],
      ["BIRTHDAY_79d389868f96182e@google.com", "2013-12-10", "2013-12-10"],
      ["BIRTHDAY_79d389868f96182e@google.com", "2014-12-10", "2014-12-10"],
    ]);
  });

  it("lands both whole", async () => {
    const db = await tempDatabase();
    const results = await loadCalendar(db, [REAL]);
    expect(results.map((r) => [r.fileName, r.status, r.rowsLanded, r.rowsQuarantined])).toEqual([
      ["google_birthday.ics", "landed", 4, 0],
      ["recur_instances.ics", "landed", 3, 0],
    ]);
    expect(await queryRows(db, "select count(*)::int as n from raw.quarantine")).toEqual([{ n: 0 }]);
  });
});
