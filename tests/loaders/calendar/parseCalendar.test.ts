import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCalendar } from "../../../loaders/calendar/parseCalendar.ts";

const FIXTURES = resolve(import.meta.dirname, "../../fixtures/calendar-exports");

function events(file: string, horizon?: string): Record<string, unknown>[] {
  const records = parseCalendar(readFileSync(resolve(FIXTURES, file), "utf8"), {
    horizon: new Date(horizon ?? "2031-01-01T00:00:00Z"),
    maxOccurrences: 20_000,
  });
  return records.map((r) => (r.json ? { line: r.line, ...JSON.parse(r.json) } : { line: r.line, error: r.error }));
}

describe("parseCalendar on a Google Calendar export", () => {
  const google = events("google-work.ics");

  it("expands the weekly series in UTC across the DST change, without the EXDATE, and keeps overrides as their own rows", () => {
    const [series, moved, cancelled] = google;
    expect(series).toMatchObject({
      line: 26,
      uid: "4kq1c2b9v0s8r7p6o5n4m3l2k1@google.com",
      recurrence_id: null,
      starts_at: "2024-03-11T09:00:00Z",
      ends_at: "2024-03-11T09:45:00Z",
      timezone: "Europe/Berlin",
      // 1 April is excluded; from 31 March Berlin is on summer time, so 10:00 is 08:00 UTC.
      occurrences: ["2024-03-11T09:00:00Z", "2024-03-18T09:00:00Z", "2024-03-25T09:00:00Z", "2024-04-08T08:00:00Z"],
      occurrences_truncated: false,
      sequence: 1,
      rrule: ["FREQ=WEEKLY;BYDAY=MO;UNTIL=20240408T215959Z"],
    });
    expect(moved).toMatchObject({ recurrence_id: "2024-03-18T09:00:00Z", starts_at: "2024-03-19T15:00:00Z", status: "CONFIRMED" });
    expect(cancelled).toMatchObject({ recurrence_id: "2024-03-25T09:00:00Z", status: "CANCELLED" });
  });

  it("unfolds and unescapes text, and lowercases attendees' e-mails", () => {
    const [series] = google;
    expect(series!.description).toBe("Weekly check-in with Northwind.\nAgenda: rollout, feedback; next steps.");
    expect((series!.attendees as { email: string; name: string }[]).map((a) => [a.email, a.name])).toEqual([
      ["hiro.rossi@earshot.example", "Hiro Rossi"],
      ["ann.lee@northwind.example", "Ann Lee"],
      ["someone@gmail.com", "someone@gmail.com"],
    ]);
    expect(series!.organizer).toMatchObject({ email: "hiro.rossi@earshot.example", name: "Hiro Rossi" });
  });

  it("keeps an all-day event as dates and a cancelled one with its status", () => {
    expect(google[3]).toMatchObject({ is_all_day: true, starts_at: "2024-05-01", ends_at: "2024-05-02" });
    expect(google[4]).toMatchObject({ status: "CANCELLED", starts_at: "2024-04-12T13:00:00Z", timezone: "UTC" });
  });

  it("stops a series at the horizon", () => {
    expect(events("google-work.ics", "2024-03-20T00:00:00Z")[0]!.occurrences).toEqual(["2024-03-11T09:00:00Z", "2024-03-18T09:00:00Z"]);
  });
});

describe("parseCalendar on Outlook and Apple exports", () => {
  it("converts Outlook's Windows time zone through its VTIMEZONE and adds the RDATE to the monthly series", () => {
    const [qbr, conference] = events("outlook.ics");
    expect(qbr).toMatchObject({
      summary: "Kestrel Health QBR",
      timezone: "Pacific Standard Time",
      starts_at: "2024-03-05T17:00:00Z",
      ends_at: "2024-03-05T18:30:00Z",
      occurrences: ["2024-03-05T17:00:00Z", "2024-04-05T16:00:00Z", "2024-05-05T16:00:00Z", "2024-06-20T16:00:00Z"],
      organizer: { email: "felix.clarke@earshot.example", name: "Clarke, Felix" },
    });
    expect(String(qbr!.uid)).toHaveLength(112);
    expect((qbr!.attendees as { email: string; cutype: string | null }[]).map((a) => [a.email, a.cutype])).toEqual([
      ["dana.kim@kestrel-health.example", null],
      ["boardroom@earshot.example", "RESOURCE"],
    ]);
    expect(conference).toMatchObject({ is_all_day: true, starts_at: "2024-06-10", ends_at: "2024-06-13" });
  });

  it("reads Apple's EMAIL parameter, uses the IANA zone a TZID names without a VTIMEZONE, and quarantines an event without a start by its line", () => {
    const [standup, broken, tokyo] = events("apple-home.ics");
    expect((standup!.attendees as { email: string }[]).map((a) => a.email)).toEqual([
      "ops@tidewater.example",
      "viktor.khan@earshot.example",
    ]);
    expect((standup!.occurrences as string[]).slice(0, 6)).toEqual([
      "2024-01-08T14:00:00Z",
      "2024-01-09T14:00:00Z",
      "2024-01-10T14:00:00Z",
      "2024-01-11T14:00:00Z",
      "2024-01-12T14:00:00Z",
      "2024-01-15T14:00:00Z",
    ]);
    // An open-ended daily series runs to the horizon; in March New York moves to summer time.
    expect((standup!.occurrences as string[]).at(-1)).toBe("2030-12-31T14:00:00Z");
    expect((standup!.occurrences as string[]).find((o) => o.startsWith("2024-03-11"))).toBe("2024-03-11T13:00:00Z");
    expect(broken).toEqual({ line: 41, error: "line 41: VEVENT 0F0F0F0F-BROKEN-NO-START without a DTSTART" });
    expect(tokyo).toMatchObject({ timezone: "Asia/Tokyo", starts_at: "2024-01-15T09:00:00Z", ends_at: "2024-01-15T10:30:00Z" });
  });

  it("quarantines an event whose TZID nobody defines, an event that does not parse, and a file that is not iCalendar", () => {
    const text = [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "BEGIN:VEVENT",
      "UID:a",
      "DTSTART;TZID=Mars Standard Time:20240101T100000",
      "END:VEVENT",
      "BEGIN:VEVENT",
      "UID b without a colon",
      "END:VEVENT",
      "BEGIN:VEVENT",
      "UID:c",
      "DTSTART:20240101T100000Z",
      "END:VEVENT",
      "END:VCALENDAR",
    ].join("\r\n");
    const records = parseCalendar(text);
    expect(records.map((r) => [r.line, r.error?.replace(/: .*/s, ": …")])).toEqual([
      [3, "line 3: …"],
      [7, "line 7: …"],
      [10, undefined],
    ]);
    expect(records[0]!.error).toBe(
      "line 3: VEVENT a: unknown time zone TZID=Mars Standard Time: the file has no VTIMEZONE for it and it is not an IANA zone name",
    );
    expect(records[1]!.raw).toBe("BEGIN:VEVENT\r\nUID b without a colon\r\nEND:VEVENT");
    expect(parseCalendar("hello")).toEqual([{ line: 1, raw: "hello", error: "not an iCalendar file: it has no BEGIN:VCALENDAR line" }]);
  });
});
