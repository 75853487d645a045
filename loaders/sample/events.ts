import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createPrng, type Prng } from "./prng.ts";
import { DAY, EVENT_TYPES, RECEIVED, activityModel, iso, type ActivityModel, type EventRecord, type Period } from "./activity.ts";

/** How many defects of each kind to plant. */
export interface PlantedCounts {
  /** Extra copies of an event (same event_id, later received_at) in a later file. */
  duplicates: number;
  /** Events that arrive in a file after the period they occurred in. */
  late: number;
  truncated: number;
  trailingGarbage: number;
  blankLines: number;
  missingEventId: number;
  badTimestamp: number;
  timestampOutOfRange: number;
  negativeDuration: number;
  unknownUser: number;
  unknownEventType: number;
}

export const STANDARD_PLANTED: PlantedCounts = {
  duplicates: 30,
  late: 40,
  truncated: 3,
  trailingGarbage: 2,
  blankLines: 2,
  missingEventId: 4,
  badTimestamp: 3,
  timestampOutOfRange: 2,
  negativeDuration: 3,
  unknownUser: 5,
  unknownEventType: 4,
};

export const TINY_PLANTED: PlantedCounts = {
  duplicates: 3,
  late: 3,
  truncated: 1,
  trailingGarbage: 1,
  blankLines: 1,
  missingEventId: 1,
  badTimestamp: 1,
  timestampOutOfRange: 1,
  negativeDuration: 1,
  unknownUser: 1,
  unknownEventType: 1,
};

export interface EventFileManifest {
  name: string;
  /** First and last day the file's period covers (UTC, inclusive). */
  from: string;
  to: string;
  lines: number;
}

/** What was written, so that tests and assertions downstream can check each planted defect. */
export interface EventsManifest {
  files: EventFileManifest[];
  /** Distinct valid events (what a correct pipeline keeps), by type. */
  validEvents: number;
  validByType: Record<string, number>;
  /** Valid events whose occurred_at carries a non-UTC offset (still valid; convert to UTC). */
  offsetTimestamps: number;
  /** Physical lines in all files, blank ones included. */
  lines: number;
  /** Lines that parse as one JSON object (what lands in raw.events). */
  jsonObjects: number;
  duplicates: { eventId: string; file: string; line: number; originalFile: string; originalLine: number }[];
  late: { eventId: string; file: string; line: number; occurredAt: string }[];
  malformed: { kind: "truncated" | "trailing_garbage"; file: string; line: number }[];
  blank: { file: string; line: number }[];
  invalid: { code: string; eventId: string | null; file: string; line: number }[];
  planted: PlantedCounts;
}

interface Line {
  receivedAt: number;
  kind: "event" | "duplicate" | "late" | "invalid" | "malformed" | "blank";
  /**
   * A valid event is serialized as soon as it is made, so that the objects die young and a
   * period's events cost one string each; the few lines that get changed are parsed back.
   */
  text?: string;
  eventType?: string;
  hasOffset?: boolean;
  event?: EventRecord;
  code?: string;
  original?: Line;
  /** A later file holds a copy of this line; its position goes into the manifest. */
  isOriginal?: boolean;
}

const YEAR_START = Date.UTC(2024, 0, 1);
const YEAR_END = Date.UTC(2025, 0, 1);
/** From this day on the app exported daily files instead of weekly ones. */
const DAILY_FROM = Date.UTC(2024, 11, 2);

/** 48 weekly files (Mondays from 2024-01-01), then one a day through December. */
export function eventPeriods(): Period[] {
  const periods: Period[] = [];
  for (let t = YEAR_START; t < DAILY_FROM; t += 7 * DAY)
    periods.push({ name: `${iso(t).slice(0, 10)}_week.ndjson`, start: t, end: t + 7 * DAY });
  for (let t = DAILY_FROM; t < YEAR_END; t += DAY) periods.push({ name: `${iso(t).slice(0, 10)}_day.ndjson`, start: t, end: t + DAY });
  return periods;
}

/**
 * Writes `events` distinct valid product events for 2024 (and the upgrades that some
 * credit-limit hits lead to, on top: activity.ts) into `<dir>/*.ndjson`, one file per
 * period, each file written and released before the next is made (memory stays flat in
 * `events`), then plants the defects in `planted`. Deterministic in `seed`.
 */
export function writeSampleEvents(dir: string, options: { seed: number; events: number; planted?: PlantedCounts }): EventsManifest {
  const planted = options.planted ?? (options.events >= 5000 ? STANDARD_PLANTED : TINY_PLANTED);
  const periods = eventPeriods();
  const prng = createPrng(options.seed).fork("events");
  const plant = createPrng(options.seed).fork("plant");
  const quotas = shareOut(
    options.events,
    periods.map((p, i) => ((p.end - p.start) / DAY) * (1 + (1.5 * i) / periods.length)),
  );
  const world = activityModel(prng);
  mkdirSync(dir, { recursive: true });

  // Which periods lend a late event or a duplicate to a later file, and which get a bad line.
  const lastSource = periods.length - 2;
  const lateFrom = count(planted.late, () => plant.int(0, lastSource));
  const dupFrom = count(planted.duplicates, () => plant.int(0, lastSource));
  const badIn = new Map<number, string[]>();
  const bad: [string, number][] = [
    ["truncated", planted.truncated],
    ["trailing_garbage", planted.trailingGarbage],
    ["blank", planted.blankLines],
    ["missing_event_id", planted.missingEventId],
    ["bad_timestamp", planted.badTimestamp],
    ["timestamp_out_of_range", planted.timestampOutOfRange],
    ["negative_duration", planted.negativeDuration],
    ["unknown_user", planted.unknownUser],
    ["unknown_event_type", planted.unknownEventType],
  ];
  for (const [kind, n] of bad) for (let i = 0; i < n; i++) push(badIn, plant.int(0, periods.length - 1), kind);

  const incoming = new Map<number, Line[]>();
  const manifest: EventsManifest = {
    files: [],
    validEvents: 0,
    validByType: Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])),
    offsetTimestamps: 0,
    lines: 0,
    jsonObjects: 0,
    duplicates: [],
    late: [],
    malformed: [],
    blank: [],
    invalid: [],
    planted,
  };
  const positions = new Map<Line, { file: string; line: number }>();

  for (const [index, period] of periods.entries()) {
    const lines: Line[] = [];
    world.generate(period, quotas[index]!, (event) => {
      const occurredAt = event.occurred_at as string;
      lines.push({
        receivedAt: event[RECEIVED]!,
        kind: "event",
        text: JSON.stringify(event),
        eventType: event.event_type as string,
        hasOffset: !occurredAt.endsWith("Z"),
      });
    });
    const target = () => Math.min(periods.length - 1, index + plant.int(1, 3));

    // Late events leave this file for a later one, which receives them after its own period began.
    for (let i = 0; i < (lateFrom.get(index) ?? 0) && lines.length > 1; i++) {
      const [moved] = lines.splice(plant.int(0, lines.length - 1), 1);
      moved!.kind = "late";
      moved!.event = JSON.parse(moved!.text!) as EventRecord;
      push(incoming, target(), moved!);
    }
    const originals = lines.slice();
    for (let i = 0; i < (dupFrom.get(index) ?? 0) && originals.length > 0; i++) {
      const original = originals.splice(plant.int(0, originals.length - 1), 1)[0]!;
      original.isOriginal = true;
      push(incoming, target(), { receivedAt: 0, kind: "duplicate", event: JSON.parse(original.text!) as EventRecord, original });
    }
    for (const line of incoming.get(index) ?? []) {
      line.receivedAt = period.start + plant.int(60, Math.max(120, (period.end - period.start) / 1000 - 60)) * 1000;
      line.event!.received_at = iso(line.receivedAt);
      line.text = undefined;
      lines.push(line);
    }
    incoming.delete(index);
    const broken: Line[] = [];
    for (const kind of badIn.get(index) ?? []) {
      const line = badLine(kind, period, world, plant);
      (line.kind === "blank" || line.kind === "malformed" ? broken : lines).push(line);
    }
    lines.sort((a, b) => a.receivedAt - b.receivedAt);
    // Blank and broken lines sit wherever the writer was when it failed, not in time order.
    for (const line of broken) lines.splice(plant.int(0, lines.length), 0, line);

    const file = openSync(join(dir, period.name), "w");
    try {
      let chunk: string[] = [];
      for (const [i, line] of lines.entries()) {
        const json = line.text ?? (line.kind === "blank" ? "" : JSON.stringify(line.event));
        chunk.push(line.kind !== "malformed" ? json : line.code === "truncated" ? json.slice(0, json.length >> 1) : `${json} ,x`);
        if (line.isOriginal) positions.set(line, { file: period.name, line: i + 1 });
        record(manifest, line, period.name, i + 1, positions);
        if (chunk.length === 8192) {
          writeSync(file, chunk.join("\n") + "\n");
          chunk = [];
        }
      }
      if (chunk.length > 0) writeSync(file, chunk.join("\n") + "\n");
    } finally {
      closeSync(file);
    }
    manifest.files.push({
      name: period.name,
      from: iso(period.start).slice(0, 10),
      to: iso(period.end - DAY).slice(0, 10),
      lines: lines.length,
    });
    manifest.lines += lines.length;
  }
  return manifest;
}

function record(manifest: EventsManifest, line: Line, file: string, n: number, positions: Map<Line, { file: string; line: number }>): void {
  const event = line.event;
  switch (line.kind) {
    case "blank":
      manifest.blank.push({ file, line: n });
      return;
    case "malformed":
      manifest.malformed.push({ kind: line.code as "truncated" | "trailing_garbage", file, line: n });
      return;
    case "invalid":
      manifest.jsonObjects++;
      manifest.invalid.push({ code: line.code!, eventId: (event!.event_id as string | undefined) ?? null, file, line: n });
      return;
    case "duplicate": {
      manifest.jsonObjects++;
      const original = positions.get(line.original!)!;
      positions.delete(line.original!);
      manifest.duplicates.push({
        eventId: String(event!.event_id),
        file,
        line: n,
        originalFile: original.file,
        originalLine: original.line,
      });
      return;
    }
    case "late":
      manifest.late.push({ eventId: String(event!.event_id), file, line: n, occurredAt: String(event!.occurred_at) });
      break;
    case "event":
      break;
  }
  manifest.jsonObjects++;
  manifest.validEvents++;
  manifest.validByType[line.eventType!]! += 1;
  if (line.hasOffset) manifest.offsetTimestamps++;
}

/** A semantically bad but well-formed event (exactly one defect), or a placeholder for a broken line. */
function badLine(kind: string, period: Period, world: ActivityModel, prng: Prng): Line {
  const receivedAt = period.start + prng.int(60, (period.end - period.start) / 1000 - 60) * 1000;
  if (kind === "blank") return { receivedAt, kind: "blank" };
  const event = world.standalone(receivedAt - prng.int(1, 30) * 1000, receivedAt);
  if (kind === "truncated" || kind === "trailing_garbage") return { receivedAt, kind: "malformed", code: kind, event };
  switch (kind) {
    case "missing_event_id":
      delete event.event_id;
      break;
    case "bad_timestamp":
      event.occurred_at = prng.pick(["2024-02-30T10:15:00Z", "not a timestamp", "2024-13-01T08:00:00Z"]);
      break;
    case "timestamp_out_of_range":
      event.occurred_at = prng.pick(["1970-01-01T00:00:00Z", "2031-06-01T12:00:00Z"]);
      break;
    case "negative_duration":
      event.event_type = "pause";
      event.duration_seconds = -prng.int(5, 600);
      break;
    case "unknown_user":
      event.user_id = `user_${9000 + prng.int(0, 999)}`;
      break;
    case "unknown_event_type":
      event.event_type = prng.pick(["rewind", "like", "playlist_add"]);
      break;
  }
  return { receivedAt, kind: "invalid", code: kind, event };
}

/** Splits `total` across `weights` in whole numbers that add up exactly (largest remainder). */
function shareOut(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const missing = total - out.reduce((a, b) => a + b, 0);
  for (let k = 0; k < missing; k++) out[order[k]![1]]! += 1;
  return out;
}

function count(n: number, draw: () => number): Map<number, number> {
  const out = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const k = draw();
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
