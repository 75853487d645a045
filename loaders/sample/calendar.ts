import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { createPrng, type Prng } from "./prng.ts";
import { companies, people, type Person } from "./world.ts";

export interface CalendarSampleManifest {
  /** The Google Calendar export: a zip of one `.ics` per calendar. */
  file: string;
  calendars: string[];
  /** VEVENTs written, recurring masters and their overrides counted once each. */
  events: number;
  recurring: number;
  /** Occurrences a recurring series leaves out (EXDATE) and occurrences moved (RECURRENCE-ID). */
  excluded: number;
  moved: number;
  cancelled: number;
  allDay: number;
  planted: {
    /** A VEVENT whose DTSTART is no date: quarantined by the loader with its line. */
    unparseable: { calendar: string; uid: string }[];
    /** Ends before it starts: invalid in bronze (ends_before_start). */
    endsBeforeStart: { calendar: string; uid: string }[];
    /** External guests on a domain no company maps: counted in rpt_unmapped_meeting_domains. */
    unmappedDomains: string[];
  };
}

/** Google writes the zone it schedules in; the sales calendar is in Berlin, customer success in New York. */
const ZONES = {
  "Europe/Berlin": ["+0100", "+0200", "CET", "CEST"],
  "America/New_York": ["-0500", "-0400", "EST", "EDT"],
} as const;
type Zone = keyof typeof ZONES;

interface Calendar {
  name: string;
  owner: Person;
  zone: Zone;
  events: string[][];
}

/**
 * Writes `calendar/<owner's e-mail>.ical.zip` as Google Calendar's export does: one `.ics` per
 * calendar of our staff, with a weekly check-in per customer company (a Monday series in Berlin
 * time with an EXDATE and one occurrence moved by a RECURRENCE-ID override), one-off demos, an
 * all-day offsite, a cancelled call, folded lines and escaped text, and the planted defects the
 * manifest lists. Guests are the world's people by e-mail, so meetings link to companies by
 * their domains and to users by their addresses.
 */
export function writeSampleCalendar(dir: string, options: { seed: number }): CalendarSampleManifest {
  const prng = createPrng(`calendar:${options.seed}`);
  const staff = people().filter((p) => p.isInternal);
  const byCompany = (company: string) => people().filter((p) => p.canonicalCompany === company && !p.isInternal);
  const sales: Calendar = { name: staff[1]!.email, owner: staff[1]!, zone: "Europe/Berlin", events: [] };
  const success: Calendar = { name: "Customer success", owner: staff[2]!, zone: "America/New_York", events: [] };
  const counts = { recurring: 0, excluded: 0, moved: 0, cancelled: 0, allDay: 0 };
  const planted: CalendarSampleManifest["planted"] = { unparseable: [], endsBeforeStart: [], unmappedDomains: [] };

  companies.slice(1).forEach((company, i) => {
    const guests = byCompany(company.company).slice(0, 1 + (i % 3));
    if (guests.length === 0) return;
    const host = staff[1 + (i % 3)]!;
    const calendar = i % 2 === 0 ? sales : success;
    const uid = `${prng.hex(26)}@google.com`;
    // Mondays from the first week of February, ten weeks, at 10:00 + i in the calendar's zone.
    const first = Date.UTC(2024, 1, 5, 10 + (i % 4), 0);
    const weeks = 10;
    const skipped = first + (3 + (i % 4)) * 7 * 86_400_000;
    const moved = first + 2 * 7 * 86_400_000;
    calendar.events.push(
      vevent({
        uid,
        summary: `${company.company} weekly`,
        description: `Weekly check-in with ${company.company}.\nAgenda: rollout, feedback; next steps.`,
        start: local(first, calendar.zone),
        end: local(first + 45 * 60_000, calendar.zone),
        extra: [
          `RRULE:FREQ=WEEKLY;WKST=MO;COUNT=${weeks};BYDAY=MO`,
          `EXDATE;TZID=${calendar.zone}:${localStamp(skipped)}`,
          ...invitees(host, guests),
        ],
      }),
      // The third Monday's call moved to Tuesday afternoon.
      vevent({
        uid,
        summary: `${company.company} weekly (moved)`,
        start: local(moved + 86_400_000 + 5 * 3_600_000, calendar.zone),
        end: local(moved + 86_400_000 + 5 * 3_600_000 + 45 * 60_000, calendar.zone),
        extra: [`RECURRENCE-ID;TZID=${calendar.zone}:${localStamp(moved)}`, "SEQUENCE:2", ...invitees(host, guests)],
      }),
    );
    counts.recurring++;
    counts.excluded++;
    counts.moved++;
    // A demo in the autumn for every other company, an hour, with one more guest.
    if (i % 2 === 1) {
      const day = Date.UTC(2024, 8 + (i % 3), 3 + i * 2, 14, 30);
      const demo = byCompany(company.company).slice(0, 2 + (i % 2));
      calendar.events.push(
        vevent({
          uid: `${prng.hex(26)}@google.com`,
          summary: `Earshot demo for ${company.company}`,
          start: local(day, calendar.zone),
          end: local(day + 3_600_000, calendar.zone),
          extra: invitees(host, demo),
        }),
      );
    }
  });

  const everyone = staff.map((p) => `ATTENDEE;CN=${p.displayName};PARTSTAT=ACCEPTED:mailto:${p.email}`);
  sales.events.push(
    vevent({
      uid: `${prng.hex(26)}@google.com`,
      summary: "Team offsite",
      start: "VALUE=DATE:20240606",
      end: "VALUE=DATE:20240608",
      extra: [`ORGANIZER;CN=${staff[0]!.displayName}:mailto:${staff[0]!.email}`, ...everyone],
    }),
  );
  counts.allDay++;
  const halcyon = byCompany("Halcyon Bank");
  success.events.push(
    vevent({
      uid: `${prng.hex(26)}@google.com`,
      summary: "Halcyon Bank security review",
      start: local(Date.UTC(2024, 4, 14, 15, 0), success.zone),
      end: local(Date.UTC(2024, 4, 14, 16, 0), success.zone),
      extra: ["STATUS:CANCELLED", ...invitees(staff[2]!, halcyon.slice(0, 1))],
    }),
  );
  counts.cancelled++;

  // Planted: a prospect on a domain no company maps, a typo'd start, an end before the start.
  const prospect = "acme-prospect.example";
  planted.unmappedDomains.push(prospect);
  sales.events.push(
    vevent({
      uid: `${prng.hex(26)}@google.com`,
      summary: "Intro call, Acme",
      start: local(Date.UTC(2024, 6, 9, 11, 0), sales.zone),
      end: local(Date.UTC(2024, 6, 9, 11, 30), sales.zone),
      extra: [...invitees(staff[1]!, []), `ATTENDEE;CN=Pat Doe;PARTSTAT=ACCEPTED:mailto:pat.doe@${prospect}`],
    }),
  );
  const broken = `${prng.hex(26)}@google.com`;
  sales.events.push(
    vevent({
      uid: broken,
      summary: "Pipeline review",
      start: "TZID=Europe/Berlin:2024-13-45T10:00",
      end: "TZID=Europe/Berlin:20241104T110000",
    }),
  );
  planted.unparseable.push({ calendar: sales.name, uid: broken });
  const backwards = `${prng.hex(26)}@google.com`;
  success.events.push(
    vevent({
      uid: backwards,
      summary: "Quarterly review",
      start: local(Date.UTC(2024, 9, 2, 16, 0), success.zone),
      end: local(Date.UTC(2024, 9, 2, 15, 0), success.zone),
      extra: invitees(staff[2]!, byCompany("Juniper Learning").slice(0, 1)),
    }),
  );
  planted.endsBeforeStart.push({ calendar: success.name, uid: backwards });

  const calendars = [sales, success];
  const files: Record<string, Uint8Array> = {};
  for (const calendar of calendars) {
    const fileName = calendar.name === calendar.owner.email ? `${calendar.owner.email}.ics` : `${calendar.name}_${calendarId(prng)}.ics`;
    files[fileName] = strToU8(ics(calendar));
  }
  mkdirSync(dir, { recursive: true });
  const file = `${staff[1]!.email}.ical.zip`;
  writeFileSync(join(dir, file), zipSync(files, { level: 6, mtime: new Date(Date.UTC(2024, 11, 31)) }));
  return {
    file,
    calendars: Object.keys(files),
    events: calendars.reduce((n, c) => n + c.events.length, 0),
    ...counts,
    planted,
  };
}

/** Google's id of a secondary calendar: `c_<hex>@group.calendar.google.com`. */
function calendarId(prng: Prng): string {
  return `c_${prng.hex(16)}@group.calendar.google.com`;
}

/** The organizer and guests of a meeting, as Google writes them. */
function invitees(host: Person, guests: Person[]): string[] {
  return [
    `ORGANIZER;CN=${host.displayName}:mailto:${host.email}`,
    ...[host, ...guests].map(
      (p, i) =>
        `ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=${i === 0 ? "ACCEPTED" : "NEEDS-ACTION"};CN=${p.displayName};X-NUM-GUESTS=0:mailto:${p.email}`,
    ),
  ];
}

/** A wall-clock time in `zone` for a UTC instant used as the zone's local time (the sample schedules in local hours). */
function local(ms: number, zone: Zone): string {
  return `TZID=${zone}:${localStamp(ms)}`;
}

function localStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").slice(0, 15);
}

function vevent(e: { uid: string; summary: string; description?: string; start: string; end: string; extra?: string[] }): string[] {
  return [
    "BEGIN:VEVENT",
    `DTSTART;${e.start}`,
    `DTEND;${e.end}`,
    "DTSTAMP:20241231T120000Z",
    `UID:${e.uid}`,
    ...(e.extra ?? []),
    "CREATED:20240101T090000Z",
    ...(e.description ? [`DESCRIPTION:${escapeText(e.description)}`] : []),
    "LOCATION:Google Meet",
    e.extra?.includes("STATUS:CANCELLED") ? "" : "STATUS:CONFIRMED",
    `SUMMARY:${escapeText(e.summary)}`,
    "TRANSP:OPAQUE",
    "END:VEVENT",
  ].filter((line) => line !== "");
}

function ics(calendar: Calendar): string {
  const lines = [
    "BEGIN:VCALENDAR",
    "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
    "VERSION:2.0",
    "CALSCALE:GREGORIAN",
    "METHOD:PUBLISH",
    `X-WR-CALNAME:${escapeText(calendar.name)}`,
    `X-WR-TIMEZONE:${calendar.zone}`,
    ...Object.keys(ZONES).flatMap((zone) => vtimezone(zone as Zone)),
    ...calendar.events.flat(),
    "END:VCALENDAR",
  ];
  return lines.map(fold).join("\r\n") + "\r\n";
}

/** The zone's rules as Google writes them: the EU and US daylight-saving rules since 2007. */
function vtimezone(zone: Zone): string[] {
  const [std, dst, stdName, dstName] = ZONES[zone];
  const eu = zone === "Europe/Berlin";
  return [
    "BEGIN:VTIMEZONE",
    `TZID:${zone}`,
    `X-LIC-LOCATION:${zone}`,
    "BEGIN:DAYLIGHT",
    `TZOFFSETFROM:${std}`,
    `TZOFFSETTO:${dst}`,
    `TZNAME:${dstName}`,
    eu ? "DTSTART:19700329T020000" : "DTSTART:19700308T020000",
    eu ? "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU" : "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    `TZOFFSETFROM:${dst}`,
    `TZOFFSETTO:${std}`,
    `TZNAME:${stdName}`,
    eu ? "DTSTART:19701025T030000" : "DTSTART:19701101T020000",
    eu ? "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU" : "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
  ];
}

/** RFC 5545 TEXT: backslash, comma, semicolon and newline escaped. */
function escapeText(text: string): string {
  return text.replace(/[\\,;]/g, (c) => `\\${c}`).replace(/\n/g, "\\n");
}

/** RFC 5545 folding: lines longer than 75 octets continue on the next line after one space. */
function fold(line: string): string {
  const bytes = Buffer.from(line, "utf8");
  if (bytes.length <= 75) return line;
  const parts: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(bytes.length, start + (start === 0 ? 75 : 74));
    // Never split a UTF-8 sequence: back up to the start of a character.
    while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
    parts.push(bytes.subarray(start, end).toString("utf8"));
    start = end;
  }
  return parts.join("\r\n ");
}
