import { UserError } from "../../runner/errors.ts";

/**
 * Converts a wall-clock time to UTC milliseconds. Exports before mid-2022 wrote dates with no
 * offset at all, so the user names the zone of the machine that exported (`--timezone`): an
 * IANA name (`Europe/Moscow`) or a fixed offset (`+03:00`, `UTC+03:00`); the default is UTC.
 */
export type WallClockToUtc = (year: number, month: number, day: number, hour: number, minute: number, second: number) => number;

const OFFSET = /^(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})?$/i;

export function timezoneConverter(timezone = "UTC"): WallClockToUtc {
  const tz = timezone.trim();
  if (/^(UTC|GMT|Z)$/i.test(tz)) return (y, mo, d, h, mi, s) => Date.UTC(y, mo - 1, d, h, mi, s);
  const fixed = OFFSET.exec(tz);
  if (fixed) {
    const offsetMs = offsetMinutes(fixed[1]!, fixed[2]!, fixed[3] ?? "0") * 60_000;
    return (y, mo, d, h, mi, s) => Date.UTC(y, mo - 1, d, h, mi, s) - offsetMs;
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  } catch {
    throw new UserError(`unknown time zone "${timezone}": use an IANA name such as Europe/Moscow, or an offset such as +03:00`);
  }
  const offsetAt = (utc: number): number => {
    const parts: Record<string, number> = {};
    for (const p of format.formatToParts(utc)) if (p.type !== "literal") parts[p.type] = Number(p.value);
    return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) - utc;
  };
  return (y, mo, d, h, mi, s) => {
    const wall = Date.UTC(y, mo - 1, d, h, mi, s);
    // Two rounds settle the offset except inside a DST gap, where the later offset wins.
    const first = wall - offsetAt(wall);
    return wall - offsetAt(first);
  };
}

export function offsetMinutes(sign: string, hours: string, minutes: string): number {
  return (sign === "-" ? -1 : 1) * (Number(hours) * 60 + Number(minutes));
}
