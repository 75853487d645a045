import ICAL from "ical.js";
import { messageOf } from "../../runner/errors.ts";
import type { SourceRecord } from "../land.ts";
import { timezoneConverter, type WallClockToUtc } from "../telegram/timezone.ts";

/** How far ahead a recurring event is expanded, and how many occurrences one event may have at most. */
export interface ExpansionLimits {
  /** Occurrences starting at or after this instant are not landed. */
  horizon: Date;
  maxOccurrences: number;
}

/** Far enough for any report (dim_date ends 2030-12-31); a silver var cuts it shorter. */
export const DEFAULT_LIMITS: ExpansionLimits = { horizon: new Date("2031-01-01T00:00:00Z"), maxOccurrences: 20_000 };

/** The longest raw text of a broken VEVENT kept in the quarantine. */
const MAX_RAW = 64 * 1024;

interface Block {
  line: number;
  text: string;
}

/**
 * One record per VEVENT of an iCalendar file as Google, Outlook and Apple export it, parsed by
 * ical.js: its text unfolded and unescaped, every time in UTC (through the file's own VTIMEZONEs,
 * Outlook's Windows names included, else the IANA zone its TZID names), an all-day event as
 * dates, organizer and attendees by lowercased e-mail. A recurring event carries the start of
 * each occurrence its RRULE and RDATEs give, less its EXDATEs, up to the horizon; an override
 * (RECURRENCE-ID) is its own record, and silver puts it in place of the occurrence it names.
 * Each VEVENT is parsed on its own, so one broken event is quarantined with its line and the
 * rest of the file lands.
 */
export function parseCalendar(text: string, limits: ExpansionLimits = DEFAULT_LIMITS): SourceRecord[] {
  const { header, events } = splitEvents(text);
  if (header === undefined)
    return [{ line: 1, raw: text.slice(0, MAX_RAW), error: "not an iCalendar file: it has no BEGIN:VCALENDAR line" }];
  const calendar = parseHeader(header);
  if (typeof calendar === "string") return [{ line: 1, raw: header.slice(0, MAX_RAW), error: `line 1: ${calendar}` }];
  // ical.js resolves a TZID through one process-wide registry: the file's zones are registered
  // for its events only (Outlook names different zones "Customized Time Zone" in different files).
  const registered = calendar.zones.filter((zone) => !ICAL.TimezoneService.has(zone.tzid));
  for (const zone of registered) ICAL.TimezoneService.register(zone.component);
  try {
    return events.map((block) => eventRecord(block, calendar, limits));
  } finally {
    for (const zone of registered) ICAL.TimezoneService.remove(zone.tzid);
  }
}

interface CalendarHeader {
  name: string | null;
  /** Google's X-WR-TIMEZONE: the zone of times written without one. */
  defaultZone: string | null;
  zones: { tzid: string; component: ICAL.Component }[];
}

/**
 * The file cut into its VEVENT blocks (with the physical line each begins on) and everything
 * else, which holds the calendar's own properties and VTIMEZONEs. Folded lines start with a
 * space or tab, so a line that begins `BEGIN:VEVENT` is always a real one.
 */
function splitEvents(text: string): { header: string | undefined; events: Block[] } {
  const lines = text.split(/\r\n|\n|\r/);
  const header: string[] = [];
  const events: Block[] = [];
  let current: { line: number; lines: string[]; depth: number } | undefined;
  let sawCalendar = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    // Only BEGIN: and END: lines matter here; the others are not even upper-cased.
    const first = line.charCodeAt(0) | 0x20;
    const upper = first === 0x62 || first === 0x65 ? line.slice(0, 16).toUpperCase() : "";
    if (current) {
      current.lines.push(line);
      if (upper.startsWith("BEGIN:")) current.depth++;
      else if (upper.startsWith("END:") && --current.depth === 0) {
        events.push({ line: current.line, text: current.lines.join("\r\n") });
        current = undefined;
      }
      continue;
    }
    if (upper.startsWith("BEGIN:VEVENT")) {
      current = { line: i + 1, lines: [line], depth: 1 };
      continue;
    }
    if (upper.startsWith("BEGIN:VCALENDAR")) sawCalendar = true;
    header.push(line);
  }
  // A file cut short inside an event: the block still goes to ical.js, which says what is missing.
  if (current) events.push({ line: current.line, text: current.lines.join("\r\n") });
  return { header: sawCalendar ? header.join("\r\n") : undefined, events };
}

function parseHeader(text: string): CalendarHeader | string {
  let parsed: unknown;
  try {
    parsed = ICAL.parse(text);
  } catch (error) {
    return `the calendar's header does not parse: ${messageOf(error)}`;
  }
  // Apple's exports sometimes hold several VCALENDARs in one file.
  const roots = (Array.isArray(parsed) && typeof parsed[0] === "string" ? [parsed] : (parsed as unknown[])) as unknown[];
  const header: CalendarHeader = { name: null, defaultZone: null, zones: [] };
  for (const root of roots) {
    const calendar = new ICAL.Component(root as unknown[]);
    header.name ??= stringOrNull(calendar.getFirstPropertyValue("x-wr-calname"));
    header.defaultZone ??= stringOrNull(calendar.getFirstPropertyValue("x-wr-timezone"));
    for (const zone of calendar.getAllSubcomponents("vtimezone")) {
      const tzid = stringOrNull(zone.getFirstPropertyValue("tzid"));
      if (tzid !== null && !header.zones.some((z) => z.tzid === tzid)) header.zones.push({ tzid, component: zone });
    }
  }
  return header;
}

function eventRecord(block: Block, calendar: CalendarHeader, limits: ExpansionLimits): SourceRecord {
  try {
    return { line: block.line, json: JSON.stringify(eventPayload(block, calendar, limits)) };
  } catch (error) {
    // ical.js says what failed ("Could not extract integer from …"), not where: the UID says which event.
    const uid = /^UID:(.+)$/im.exec(block.text)?.[1]?.trim();
    const message = messageOf(error);
    const which = uid && !message.includes(`VEVENT ${uid}`) ? `VEVENT ${uid}: ` : "";
    return { line: block.line, raw: block.text.slice(0, MAX_RAW), error: `line ${block.line}: ${which}${message}` };
  }
}

function eventPayload(block: Block, calendar: CalendarHeader, limits: ExpansionLimits): Record<string, unknown> {
  const component = new ICAL.Component(ICAL.parse(block.text) as unknown[]);
  const uid = stringOrNull(component.getFirstPropertyValue("uid"));
  if (uid === null) throw new Error("VEVENT without a UID");
  const startProperty = component.getFirstProperty("dtstart");
  if (!startProperty) throw new Error(`VEVENT ${uid} without a DTSTART`);
  const event = new ICAL.Event(component);
  const toUtc = utcConverter(calendar);
  const start = event.startDate;
  const end = event.endDate;
  const recurrenceId = component.getFirstProperty("recurrence-id");
  const payload: Record<string, unknown> = {
    uid,
    recurrence_id: recurrenceId ? instant(recurrenceId.getFirstValue() as ICAL.Time, toUtc) : null,
    sequence: Number(component.getFirstPropertyValue("sequence") ?? 0),
    status: stringOrNull(component.getFirstPropertyValue("status"))?.toUpperCase() ?? null,
    summary: event.summary ?? null,
    description: event.description ?? null,
    location: event.location ?? null,
    calendar_name: calendar.name,
    is_all_day: start.isDate,
    starts_at: instant(start, toUtc),
    ends_at: end ? instant(end, toUtc, tzidOf(start)) : null,
    timezone: stringOrNull(startProperty.getParameter("tzid")) ?? (start.zone === ICAL.Timezone.utcTimezone ? "UTC" : calendar.defaultZone),
    organizer: person(component.getFirstProperty("organizer")),
    attendees: component.getAllProperties("attendee").map(person),
    rrule: component.getAllProperties("rrule").map((p) => p.getFirstValue()!.toString()),
    created_at: timestamp(component, "created", toUtc),
    last_modified_at: timestamp(component, "last-modified", toUtc),
    dtstamp: timestamp(component, "dtstamp", toUtc),
  };
  if (event.isRecurring() && !recurrenceId) Object.assign(payload, occurrences(event, toUtc, limits));
  return payload;
}

/** `zone` stands in for a time's TZID where ical.js dropped it (occurrences of an event in a zone the file did not define). */
type ToUtc = (time: ICAL.Time, zone?: string) => number;

/**
 * UTC milliseconds of an ical.js time: through its zone when the file defined it (or it is UTC),
 * else the wall clock in the IANA zone its TZID names, else Google's X-WR-TIMEZONE, else UTC.
 * A TZID that is neither throws, naming it.
 */
function utcConverter(calendar: CalendarHeader): ToUtc {
  const byZone = new Map<string, WallClockToUtc>();
  return (time, zone) => {
    if (time.zone && time.zone !== ICAL.Timezone.localTimezone) return time.toUnixTime() * 1000;
    const tzid = tzidOf(time) ?? zone ?? calendar.defaultZone ?? "UTC";
    let convert = byZone.get(tzid);
    if (!convert) {
      try {
        convert = timezoneConverter(tzid);
      } catch {
        throw new Error(`unknown time zone TZID=${tzid}: the file has no VTIMEZONE for it and it is not an IANA zone name`);
      }
      byZone.set(tzid, convert);
    }
    return convert(time.year, time.month, time.day, time.hour, time.minute, time.second);
  };
}

/** An instant as `2024-03-18T09:00:00Z`, or an all-day date as `2024-03-18`. */
function instant(time: ICAL.Time, toUtc: ToUtc, zone?: string): string {
  if (time.isDate) return `${String(time.year).padStart(4, "0")}-${pad(time.month)}-${pad(time.day)}`;
  return isoInstant(toUtc(time, zone));
}

function isoInstant(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

function timestamp(component: ICAL.Component, name: string, toUtc: ToUtc): string | null {
  const value = component.getFirstPropertyValue(name);
  return value instanceof ICAL.Time ? instant(value, toUtc) : null;
}

/**
 * The starts of a recurring event's occurrences, first one included, RDATEs added and EXDATEs
 * removed by ical.js, in order, up to the horizon or the cap (then `occurrences_truncated`).
 */
function occurrences(event: ICAL.Event, toUtc: ToUtc, limits: ExpansionLimits): Record<string, unknown> {
  const horizon = limits.horizon.getTime();
  const starts: string[] = [];
  const zone = tzidOf(event.startDate);
  const iterator = event.iterator();
  let truncated = false;
  for (let value = iterator.next(); value; value = iterator.next()) {
    // An RDATE may be a PERIOD (start/end); the occurrence starts at its start.
    const next = (value as unknown) instanceof ICAL.Period ? (value as unknown as ICAL.Period).start : value;
    const at = next.isDate ? Date.UTC(next.year, next.month - 1, next.day) : toUtc(next, zone);
    if (at >= horizon) break;
    if (starts.length >= limits.maxOccurrences) {
      truncated = true;
      break;
    }
    starts.push(next.isDate ? instant(next, toUtc) : isoInstant(at));
  }
  return { occurrences: starts, occurrences_truncated: truncated };
}

/** An ORGANIZER or ATTENDEE: e-mail (the EMAIL parameter, else the mailto: address), name, role and reply. */
function person(property: ICAL.Property | null): Record<string, string | null> | null {
  if (!property) return null;
  const value = String(property.getFirstValue() ?? "");
  const address = stringOrNull(property.getParameter("email")) ?? value.replace(/^mailto:/i, "");
  const email = address.includes("@") ? address.trim().toLowerCase() : null;
  return {
    email,
    name: stringOrNull(property.getParameter("cn")),
    role: stringOrNull(property.getParameter("role"))?.toUpperCase() ?? null,
    partstat: stringOrNull(property.getParameter("partstat"))?.toUpperCase() ?? null,
    cutype: stringOrNull(property.getParameter("cutype"))?.toUpperCase() ?? null,
  };
}

function stringOrNull(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = (Array.isArray(value) ? value[0] : value).toString().trim();
  return text === "" ? null : text;
}

/** The TZID ical.js keeps on a time whose zone it could not resolve (an untyped field of ICAL.Time). */
function tzidOf(time: ICAL.Time): string | undefined {
  return (time as { timezone?: string }).timezone;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}
