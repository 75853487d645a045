import { describe, expect, it } from "vitest";
import { parseLocalIsoDate, parseTitleDate } from "../../../loaders/telegram/date.ts";
import { timezoneConverter } from "../../../loaders/telegram/timezone.ts";

describe("parseTitleDate", () => {
  const utc = timezoneConverter();

  it("applies the offset written after the time, in its UTC and GMT spellings", () => {
    expect(parseTitleDate("05.01.2024 14:03:07 UTC+03:00", utc)).toBe("2024-01-05T11:03:07.000Z");
    expect(parseTitleDate("05.01.2024 14:03:07 GMT+00:00", utc)).toBe("2024-01-05T14:03:07.000Z");
    expect(parseTitleDate("05.01.2024 14:03:07 UTC", utc)).toBe("2024-01-05T14:03:07.000Z");
    expect(parseTitleDate("01.01.2024 01:00:00 UTC-05:30", utc)).toBe("2024-01-01T06:30:00.000Z");
  });

  it("reads a title without an offset in the given zone, daylight saving included", () => {
    expect(parseTitleDate("05.01.2024 14:03:07", utc)).toBe("2024-01-05T14:03:07.000Z");
    const berlin = timezoneConverter("Europe/Berlin");
    expect(parseTitleDate("05.01.2024 14:00:00", berlin)).toBe("2024-01-05T13:00:00.000Z");
    expect(parseTitleDate("05.07.2024 14:00:00", berlin)).toBe("2024-07-05T12:00:00.000Z");
    expect(parseTitleDate("05.07.2024 14:00:00", timezoneConverter("+05:30"))).toBe("2024-07-05T08:30:00.000Z");
  });

  it("refuses titles that are not dates", () => {
    expect(parseTitleDate("31.02.2024 10:00:00 UTC+00:00", utc)).toBe(null);
    expect(parseTitleDate("29.02.2023 10:00:00 UTC+00:00", utc)).toBe(null);
    expect(parseTitleDate("29.02.2024 10:00:00 UTC+00:00", utc)).toBe("2024-02-29T10:00:00.000Z");
    expect(parseTitleDate("2024-01-05 10:00", utc)).toBe(null);
    expect(parseTitleDate("", utc)).toBe(null);
  });
});

describe("timezoneConverter", () => {
  it("rejects a zone it does not know with a message the user can act on", () => {
    expect(() => timezoneConverter("Mars/Olympus")).toThrow(/unknown time zone "Mars\/Olympus"/);
  });

  it("reads the JSON export's local ISO dates in the zone", () => {
    expect(parseLocalIsoDate("2021-03-01T12:00:00", timezoneConverter("Europe/Moscow"))).toBe("2021-03-01T09:00:00.000Z");
  });
});
