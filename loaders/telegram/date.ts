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
  return Number.isNaN(utc) ? null : isoUtc(utc);
}

/** `2024-01-05T14:03:07` as the JSON exporter writes `date` (local time, no offset). */
export function parseLocalIsoDate(value: string, wallClock: WallClockToUtc): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (!validWallClock(year, month, day, hour, minute, second)) return null;
  const utc = wallClock(year, month, day, hour, minute, second);
  return Number.isNaN(utc) ? null : isoUtc(utc);
}

const DAY_MS = 86_400_000;

/**
 * `new Date(ms).toISOString()`, written out by hand for the years 0–9999 (other years go to
 * toISOString, which writes them with six digits and a sign): every message's date goes
 * through this, and building a Date for it took ~2% of the parse. The civil date of a day
 * number is Howard Hinnant's `civil_from_days`.
 */
function isoUtc(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shifted = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1;
  const month = shifted < 10 ? shifted + 3 : shifted - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) return new Date(ms).toISOString();
  let rest = ms - days * DAY_MS;
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  const milli = rest - second * 1000;
  return `${String(year).padStart(4, "0")}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}:${two(second)}.${String(milli).padStart(3, "0")}Z`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

// Date.UTC silently rolls 31.02 over to 03.03; a date like that is a broken title, not a time.
function validWallClock(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31);
}
