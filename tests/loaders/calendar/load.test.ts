import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { loadCalendar } from "../../../loaders/calendar/load.ts";
import { duckform } from "../../util/cli.ts";
import { queryRows, tempDatabase, tempDir } from "../../util/tmp.ts";

const FIXTURES = resolve(import.meta.dirname, "../../fixtures/calendar-exports");

/** A calendar of `n` generated one-hour meetings, folded as Google folds long lines. */
function generatedCalendar(n: number): string {
  const lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Google Inc//Google Calendar 70.9054//EN", "X-WR-CALNAME:generated"];
  for (let i = 0; i < n; i++) {
    const day = String(1 + (i % 28)).padStart(2, "0");
    const description = `Meeting ${i} about the rollout, with notes long enough that Google folds the line at seventy-five octets`;
    lines.push(
      "BEGIN:VEVENT",
      `UID:generated-${i}@google.com`,
      `DTSTART:202405${day}T${String(8 + (i % 9)).padStart(2, "0")}0000Z`,
      `DTEND:202405${day}T${String(9 + (i % 9)).padStart(2, "0")}0000Z`,
      ...fold(`DESCRIPTION:${description}`),
      `ATTENDEE;CN=Guest ${i}:mailto:guest${i}@bluefin.example`,
      `SUMMARY:Generated ${i}`,
      "END:VEVENT",
    );
  }
  lines.push("END:VCALENDAR");
  return lines.join("\r\n") + "\r\n";
}

function fold(line: string): string[] {
  const out = [line.slice(0, 75)];
  for (let i = 75; i < line.length; i += 74) out.push(` ${line.slice(i, i + 74)}`);
  return out;
}

/** A Google Calendar export: a zip with one .ics per calendar under Takeout/Calendar/. */
function googleTakeout(dir: string, name = "takeout-20240601T000000Z-001.zip"): string {
  const zip = join(dir, name);
  writeFileSync(
    zip,
    zipSync({
      "Takeout/Calendar/hiro.rossi@earshot.example.ics": readFileSync(join(FIXTURES, "google-work.ics")),
      "Takeout/Calendar/Generated.ics": new TextEncoder().encode(generatedCalendar(300)),
      "Takeout/archive_browser.html": new TextEncoder().encode("<html></html>"),
    }),
  );
  return zip;
}

describe("loadCalendar", () => {
  it("lands every VEVENT of a Google Takeout zip, an Outlook and an Apple file, quarantines the broken one, and skips them on a rerun", async () => {
    const db = await tempDatabase();
    const dir = tempDir();
    const paths = [googleTakeout(dir), join(FIXTURES, "outlook.ics"), join(FIXTURES, "apple-home.ics")];
    const results = await loadCalendar(db, paths);
    expect(results.map((r) => [r.fileName, r.status, r.rowsLanded, r.rowsQuarantined])).toEqual([
      ["takeout-20240601T000000Z-001.zip!/Takeout/Calendar/Generated.ics", "landed", 300, 0],
      ["takeout-20240601T000000Z-001.zip!/Takeout/Calendar/hiro.rossi@earshot.example.ics", "landed", 5, 0],
      ["outlook.ics", "landed", 2, 0],
      ["apple-home.ics", "landed", 2, 1],
    ]);
    expect(await queryRows(db, "select source_table, _file, _line, error from raw.quarantine")).toEqual([
      {
        source_table: "calendar_events",
        _file: "apple-home.ics",
        _line: 41,
        error: "line 41: VEVENT 0F0F0F0F-BROKEN-NO-START without a DTSTART",
      },
    ]);
    expect(
      await queryRows(
        db,
        `select _line, payload ->> 'description' as description from raw.calendar_events
         where payload ->> 'uid' = 'generated-7@google.com'`,
      ),
    ).toEqual([
      {
        _line: 5 + 7 * 9,
        description: "Meeting 7 about the rollout, with notes long enough that Google folds the line at seventy-five octets",
      },
    ]);
    const again = await loadCalendar(db, paths);
    expect(again.map((r) => r.status)).toEqual(["skipped", "skipped", "skipped", "skipped"]);
    expect(await queryRows(db, "select count(*)::int as n from raw.calendar_events")).toEqual([{ n: 309 }]);
  });

  it("refuses changed content under the same name unless replacing, and fails a file it cannot read without stopping the others", async () => {
    const db = await tempDatabase();
    const dir = tempDir();
    const file = join(dir, "work.ics");
    writeFileSync(file, generatedCalendar(3));
    await loadCalendar(db, [file]);
    writeFileSync(file, generatedCalendar(4));
    const [refused] = await loadCalendar(db, [file]);
    expect(refused).toMatchObject({ status: "refused" });
    expect(refused!.error).toMatch(/^work\.ics was already landed into raw\.calendar_events with different content/);
    const [replaced] = await loadCalendar(db, [file], { replace: true });
    expect(replaced).toMatchObject({ status: "replaced", rowsLanded: 4 });
    const corrupt = join(dir, "cut.zip");
    const whole = zipSync({ "a.ics": new TextEncoder().encode(generatedCalendar(50)) }, { level: 9 });
    writeFileSync(corrupt, whole.subarray(0, whole.length - 30));
    await expect(loadCalendar(db, [corrupt])).rejects.toThrow(/^cannot read .*cut\.zip as a zip archive: /);
    await expect(loadCalendar(db, [join(dir, "missing.ics")])).rejects.toThrow(/missing\.ics does not exist$/);
  });

  it("runs as `duckform load calendar`, printing the summary and exiting 0", async () => {
    const project = tempDir();
    writeFileSync(join(project, "dataform.json"), JSON.stringify({ defaultDatabase: "demo" }));
    const result = await duckform(["load", "calendar", join(FIXTURES, "outlook.ics"), "--project", project, "--horizon", "2024-05-01"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^load calendar: files 1 landed, 0 skipped, 0 refused; 2 rows landed, 0 quarantined in /);
    const bad = await duckform(["load", "calendar", join(FIXTURES, "outlook.ics"), "--project", project, "--horizon", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected a date such as 2026-01-01, got "soon"');
  }, 30_000);
});
