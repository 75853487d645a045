/**
 * `load calendar` against ical.js parsing alone (each file parsed, every VEVENT read as an
 * ICAL.Event with its start and end in UTC and its recurrences expanded up to the same horizon,
 * nothing stored), on the same generated Google-style export: `--events` VEVENTs in files of
 * 10,000, one in ten a weekly series of 10 meetings, lines folded at 75 octets, times in a
 * VTIMEZONE. Rounds alternate peer and loader so a busy machine slows both; the ratio is of the
 * medians. Target (issue 14): within 1.5× for 100 k events.
 *
 *   npx tsx bench/calendar.ts [--events 100000] [--rounds 3]
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import ICAL from "ical.js";
import { loadCalendar } from "../loaders/calendar/load.ts";
import { DEFAULT_LIMITS } from "../loaders/calendar/parseCalendar.ts";
import { Database } from "../runner/database.ts";

const { values } = parseArgs({ options: { events: { type: "string", default: "100000" }, rounds: { type: "string", default: "3" } } });
const events = Number(values.events);
const PER_FILE = 10_000;

const VTIMEZONE = [
  "BEGIN:VTIMEZONE",
  "TZID:Europe/Berlin",
  "BEGIN:DAYLIGHT",
  "TZOFFSETFROM:+0100",
  "TZOFFSETTO:+0200",
  "TZNAME:CEST",
  "DTSTART:19700329T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
  "END:DAYLIGHT",
  "BEGIN:STANDARD",
  "TZOFFSETFROM:+0200",
  "TZOFFSETTO:+0100",
  "TZNAME:CET",
  "DTSTART:19701025T030000",
  "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
  "END:STANDARD",
  "END:VTIMEZONE",
];

function fold(line: string): string[] {
  const out = [line.slice(0, 75)];
  for (let i = 75; i < line.length; i += 74) out.push(` ${line.slice(i, i + 74)}`);
  return out;
}

function calendarFile(first: number, count: number): string {
  const lines = ["BEGIN:VCALENDAR", "PRODID:-//Google Inc//Google Calendar 70.9054//EN", "VERSION:2.0", "X-WR-CALNAME:bench", ...VTIMEZONE];
  for (let i = first; i < first + count; i++) {
    const day = new Date(Date.UTC(2024, 0, 1) + (i % 700) * 86_400_000);
    const date = day.toISOString().slice(0, 10).replace(/-/g, "");
    const hour = String(8 + (i % 9)).padStart(2, "0");
    lines.push(
      "BEGIN:VEVENT",
      `DTSTART;TZID=Europe/Berlin:${date}T${hour}0000`,
      `DTEND;TZID=Europe/Berlin:${date}T${hour}4500`,
      ...(i % 10 === 0 ? ["RRULE:FREQ=WEEKLY;COUNT=10"] : []),
      "DTSTAMP:20240501T120000Z",
      `ORGANIZER;CN=Organizer ${i % 50}:mailto:organizer${i % 50}@earshot.example`,
      `UID:bench-${i}@google.com`,
      ...fold(
        `ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Guest ${i};X-NUM-GUESTS=0:mailto:guest${i}@northwind.example`,
      ),
      ...fold(
        `ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;CN=Organizer ${i % 50};X-NUM-GUESTS=0:mailto:organizer${i % 50}@earshot.example`,
      ),
      ...fold(`DESCRIPTION:Meeting ${i}: agenda\\, notes and a link to the document that Google folds across lines because it is long`),
      "SEQUENCE:0",
      "STATUS:CONFIRMED",
      `SUMMARY:Bench meeting ${i}`,
      "END:VEVENT",
    );
  }
  lines.push("END:VCALENDAR");
  return lines.join("\r\n") + "\r\n";
}

/** ical.js alone: parse, read each event's times in UTC, expand its recurrences up to the horizon. */
function peer(files: string[]): number {
  let seen = 0;
  const horizon = DEFAULT_LIMITS.horizon.getTime() / 1000;
  for (const file of files) {
    const calendar = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
    for (const zone of calendar.getAllSubcomponents("vtimezone")) ICAL.TimezoneService.register(zone);
    for (const component of calendar.getAllSubcomponents("vevent")) {
      // Without `exceptions` each event scans every sibling VEVENT for overrides: quadratic, 138 s for 20 k events.
      const event = new ICAL.Event(component, { exceptions: [] });
      seen += event.startDate.toUnixTime() < event.endDate.toUnixTime() ? 1 : 0;
      event.attendees.map((a) => a.getFirstValue());
      if (event.isRecurring()) {
        const iterator = event.iterator();
        for (let next = iterator.next(); next && next.toUnixTime() < horizon; next = iterator.next());
      }
    }
    ICAL.TimezoneService.remove("Europe/Berlin");
  }
  return seen;
}

async function loader(files: string[], dir: string): Promise<number> {
  const db = await Database.open(join(dir, "bench.duckdb"), "bench");
  try {
    const results = await loadCalendar(db, files);
    if (results.some((r) => r.status !== "landed" || r.rowsQuarantined > 0)) throw new Error("a file did not land whole");
    return results.reduce((n, r) => n + r.rowsLanded, 0);
  } finally {
    db.close();
  }
}

const inputs = mkdtempSync(join(tmpdir(), "duckform-bench-ics-"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  for (let first = 0; first < events; first += PER_FILE) {
    writeFileSync(
      join(inputs, `calendar-${String(first / PER_FILE).padStart(3, "0")}.ics`),
      calendarFile(first, Math.min(PER_FILE, events - first)),
    );
  }
  const files = readdirSync(inputs).map((f) => join(inputs, f));
  const times = { peer: [] as number[], loader: [] as number[] };
  for (let round = 0; round < Number(values.rounds); round++) {
    let started = performance.now();
    const parsed = peer(files);
    times.peer.push((performance.now() - started) / 1000);
    if (parsed !== events) throw new Error(`ical.js read ${parsed} events, expected ${events}`);
    const dir = mkdtempSync(join(tmpdir(), "duckform-bench-ics-db-"));
    try {
      started = performance.now();
      const landed = await loader(files, dir);
      times.loader.push((performance.now() - started) / 1000);
      if (landed !== events) throw new Error(`load calendar landed ${landed} events, expected ${events}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(`round ${round + 1}: ical.js ${times.peer.at(-1)!.toFixed(2)} s, load calendar ${times.loader.at(-1)!.toFixed(2)} s`);
  }
  const ratio = median(times.loader) / median(times.peer);
  console.log(
    `load calendar ${median(times.loader).toFixed(2)} s vs ical.js parsing alone ${median(times.peer).toFixed(2)} s for ${events.toLocaleString("en")} events: ` +
      `ratio ${ratio.toFixed(2)}× (target ≤ 1.5×)`,
  );
} finally {
  rmSync(inputs, { recursive: true, force: true });
}
