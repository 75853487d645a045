import { offsetMinutes, type WallClockToUtc } from "./timezone.ts";

// `05.01.2024 14:03:07 UTC+03:00`: Telegram Desktop's FormatDateTime with the zone's offset
// name appended (since mid-2022); Qt names it `UTC+03:00`, `GMT+03:00`, or bare `UTC` at zero.
const TITLE = /^(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\s+(UTC|GMT)(?:([+-])(\d{2}):?(\d{2}))?)?$/;

/**
 * The ISO-8601 UTC instant of an HTML date `title`, or null when the title is not one.
 * An offset in the title wins; a title without one is read in `wallClock`'s zone.
 */
export function parseTitleDate(title: string, wallClock: WallClockToUtc): string | null {
  const m = TITLE.exec(title.trim());
  if (!m) return null;
  const [day, month, year, hour, minute, second] = [+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!];
  if (!validWallClock(year, month, day, hour, minute, second)) return null;
  const utc = m[7]
    ? Date.UTC(year, month - 1, day, hour, minute, second) - (m[8] ? offsetMinutes(m[8], m[9]!, m[10]!) : 0) * 60_000
    : wallClock(year, month, day, hour, minute, second);
  return Number.isNaN(utc) ? null : new Date(utc).toISOString();
}

/** `2024-01-05T14:03:07` as the JSON exporter writes `date` (local time, no offset). */
export function parseLocalIsoDate(value: string, wallClock: WallClockToUtc): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (!validWallClock(year, month, day, hour, minute, second)) return null;
  const utc = wallClock(year, month, day, hour, minute, second);
  return Number.isNaN(utc) ? null : new Date(utc).toISOString();
}

// Date.UTC silently rolls 31.02 over to 03.03; a date like that is a broken title, not a time.
function validWallClock(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31);
}
