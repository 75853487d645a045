import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createPrng, type Prng } from "./prng.ts";
import { episodes, people, type Episode, type Person } from "./world.ts";

/** The event types a valid product event has: includes/constants.js's EVENT_TYPES, which a test keeps equal. */
export const EVENT_TYPES = ["play", "pause", "complete", "download", "share", "credit_limit_hit"] as const;

/** Monthly credits by plan; playing a premium episode the first time costs its `credits_cost`. */
export const CREDIT_LIMITS = { free: 3, plus: 20, team: 60 } as const;

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
  duplicates: 30, late: 40, truncated: 3, trailingGarbage: 2, blankLines: 2,
  missingEventId: 4, badTimestamp: 3, timestampOutOfRange: 2, negativeDuration: 3, unknownUser: 5, unknownEventType: 4,
};

export const TINY_PLANTED: PlantedCounts = {
  duplicates: 3, late: 3, truncated: 1, trailingGarbage: 1, blankLines: 1,
  missingEventId: 1, badTimestamp: 1, timestampOutOfRange: 1, negativeDuration: 1, unknownUser: 1, unknownEventType: 1,
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

interface Period {
  name: string;
  start: number;
  end: number;
}

/** When the server received an event, as milliseconds; a symbol key, so JSON.stringify leaves it out. */
const RECEIVED = Symbol("receivedAt");

type EventRecord = Record<string, string | number | null> & { [RECEIVED]?: number };

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

const DAY = 86_400_000;
const YEAR_START = Date.UTC(2024, 0, 1);
const YEAR_END = Date.UTC(2025, 0, 1);
/** From this day on the app exported daily files instead of weekly ones. */
const DAILY_FROM = Date.UTC(2024, 11, 2);

/** 48 weekly files (Mondays from 2024-01-01), then one a day through December. */
export function eventPeriods(): Period[] {
  const periods: Period[] = [];
  for (let t = YEAR_START; t < DAILY_FROM; t += 7 * DAY) periods.push({ name: `${iso(t).slice(0, 10)}_week.ndjson`, start: t, end: t + 7 * DAY });
  for (let t = DAILY_FROM; t < YEAR_END; t += DAY) periods.push({ name: `${iso(t).slice(0, 10)}_day.ndjson`, start: t, end: t + DAY });
  return periods;
}

/**
 * Writes `events` distinct valid product events for 2024 into `<dir>/*.ndjson`, one file per
 * period, each file written and released before the next is made (memory stays flat in
 * `events`), then plants the defects in `planted`. Deterministic in `seed`.
 */
export function writeSampleEvents(dir: string, options: { seed: number; events: number; planted?: PlantedCounts }): EventsManifest {
  const planted = options.planted ?? (options.events >= 5000 ? STANDARD_PLANTED : TINY_PLANTED);
  const periods = eventPeriods();
  const prng = createPrng(options.seed).fork("events");
  const plant = createPrng(options.seed).fork("plant");
  const quotas = shareOut(options.events, periods.map((p, i) => ((p.end - p.start) / DAY) * (1 + (1.5 * i) / periods.length)));
  const world = activityModel(prng);
  mkdirSync(dir, { recursive: true });

  // Which periods lend a late event or a duplicate to a later file, and which get a bad line.
  const lastSource = periods.length - 2;
  const lateFrom = count(planted.late, () => plant.int(0, lastSource));
  const dupFrom = count(planted.duplicates, () => plant.int(0, lastSource));
  const badIn = new Map<number, string[]>();
  const bad: [string, number][] = [
    ["truncated", planted.truncated], ["trailing_garbage", planted.trailingGarbage], ["blank", planted.blankLines],
    ["missing_event_id", planted.missingEventId], ["bad_timestamp", planted.badTimestamp],
    ["timestamp_out_of_range", planted.timestampOutOfRange], ["negative_duration", planted.negativeDuration],
    ["unknown_user", planted.unknownUser], ["unknown_event_type", planted.unknownEventType],
  ];
  for (const [kind, n] of bad) for (let i = 0; i < n; i++) push(badIn, plant.int(0, periods.length - 1), kind);

  const incoming = new Map<number, Line[]>();
  const manifest: EventsManifest = {
    files: [], validEvents: 0, validByType: Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])), offsetTimestamps: 0,
    lines: 0, jsonObjects: 0, duplicates: [], late: [], malformed: [], blank: [], invalid: [], planted,
  };
  const positions = new Map<Line, { file: string; line: number }>();

  for (const [index, period] of periods.entries()) {
    const lines: Line[] = [];
    world.generate(period, quotas[index]!, (event) => {
      const occurredAt = event.occurred_at as string;
      lines.push({ receivedAt: event[RECEIVED]!, kind: "event", text: JSON.stringify(event), eventType: event.event_type as string, hasOffset: !occurredAt.endsWith("Z") });
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
    manifest.files.push({ name: period.name, from: iso(period.start).slice(0, 10), to: iso(period.end - DAY).slice(0, 10), lines: lines.length });
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
      manifest.duplicates.push({ eventId: String(event!.event_id), file, line: n, originalFile: original.file, originalLine: original.line });
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

let isoDay = NaN;
let isoPrefix = "";

/** `toISOString()`, with the date part cached: events come day by day, and this is the hot path. */
function iso(ms: number): string {
  const day = Math.floor(ms / DAY);
  if (day !== isoDay) {
    isoDay = day;
    isoPrefix = new Date(day * DAY).toISOString().slice(0, 11);
  }
  const rest = ms - day * DAY;
  const h = Math.floor(rest / 3_600_000);
  const m = Math.floor(rest / 60_000) % 60;
  const sec = Math.floor(rest / 1000) % 60;
  const milli = rest % 1000;
  return `${isoPrefix}${h < 10 ? "0" : ""}${h}:${m < 10 ? "0" : ""}${m}:${sec < 10 ? "0" : ""}${sec}.${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
}

interface Listener {
  person: Person;
  from: number;
  until: number;
  platform: string;
  /** How long after a release this person updates the app. */
  lag: number;
}

type ActivityModel = ReturnType<typeof activityModel>;

/** Who listens when: sign-ups, churn, plans and monthly credits, platform and app version. */
function activityModel(prng: Prng) {
  const listeners: Listener[] = people().map((person) => {
    const from = Date.parse(`${person.signupDate}T00:00:00Z`);
    // A quarter never churn; the rest stay for an exponentially distributed number of days.
    const stay = prng.chance(0.25) ? Infinity : -Math.log(1 - prng.next()) * 200 * DAY;
    return { person, from, until: from + stay, platform: prng.weighted(["ios", "android", "web"], [5, 4, 1]), lag: prng.int(0, 40) * DAY };
  });
  const credits = new Map<string, number>();
  const unlocked = new Set<string>();

  const event = (
    user: Listener,
    episode: Episode,
    type: (typeof EVENT_TYPES)[number],
    at: number,
    fields: EventRecord,
    sessionId: string,
    receivedAt = at + prng.int(200, 20_000),
  ): EventRecord => {
    const record: EventRecord = {
      event_id: uuid(prng),
      user_id: user.person.userId,
      event_type: type,
      occurred_at: prng.chance(0.03) ? withOffset(at, prng.pick([120, 330, -300, 60])) : iso(at),
      received_at: iso(receivedAt),
      session_id: sessionId,
      episode_id: episode.episodeId,
      ...fields,
      platform: user.platform,
      app_version: appVersion(at - user.lag),
    };
    record[RECEIVED] = receivedAt;
    return record;
  };

  /** One listening session: maybe a download, a credit check, plays and pauses, maybe a share. */
  const session = (user: Listener, episode: Episode, start: number): EventRecord[] => {
    const sessionId = `s_${prng.hex(12)}`;
    const events: EventRecord[] = [];
    let t = start;
    if (prng.chance(0.15)) {
      events.push(event(user, episode, "download", t, {}, sessionId));
      t += prng.int(5, 3600) * 1000;
    }
    let creditsUsed = 0;
    const key = `${user.person.userId}:${episode.episodeId}`;
    if (episode.isPremium && !unlocked.has(key)) {
      const month = `${user.person.userId}:${iso(t).slice(0, 7)}`;
      const used = credits.get(month) ?? 0;
      const limit = CREDIT_LIMITS[user.person.plan];
      if (used + episode.creditsCost > limit) {
        events.push(event(user, episode, "credit_limit_hit", t, { credits_used: used, credit_limit: limit }, sessionId));
        return events;
      }
      credits.set(month, used + episode.creditsCost);
      unlocked.add(key);
      creditsUsed = episode.creditsCost;
    }
    let position = prng.chance(0.3) ? prng.int(0, Math.floor(episode.durationSeconds * 0.8)) : 0;
    events.push(event(user, episode, "play", t, { position_seconds: position, credits_used: creditsUsed }, sessionId));
    for (let pauses = prng.int(0, 2); ; pauses--) {
      const left = episode.durationSeconds - position;
      const listened = pauses > 0 || prng.chance(0.45) ? Math.min(left, prng.int(30, Math.max(60, Math.floor(left * 0.7)))) : left;
      position += listened;
      t += listened * 1000;
      if (position >= episode.durationSeconds) {
        events.push(event(user, episode, "complete", t, { position_seconds: position, duration_seconds: listened }, sessionId));
        break;
      }
      events.push(event(user, episode, "pause", t, { position_seconds: position, duration_seconds: listened }, sessionId));
      if (pauses <= 0) break;
      t += prng.int(10, 900) * 1000;
      events.push(event(user, episode, "play", t, { position_seconds: position, credits_used: 0 }, sessionId));
    }
    if (prng.chance(0.06)) {
      t += prng.int(5, 120) * 1000;
      events.push(event(user, episode, "share", t, { share_target: prng.pick(["copy_link", "whatsapp", "telegram", "slack", "email"]) }, sessionId));
    }
    return events;
  };

  /** One valid play event at `at`, for the planted lines and periods without listeners. */
  const standalone = (at: number, receivedAt = at + 2000): EventRecord => {
    const user = prng.pick(listeners);
    const episode = prng.pick(episodes().filter((e) => e.episodeId <= "ep_0004"));
    return event(user, episode, "play", at, { position_seconds: 0, credits_used: 0 }, `s_${prng.hex(12)}`, receivedAt);
  };

  /** Exactly `quota` valid events in `period`, in listening sessions. */
  const generate = (period: Period, quota: number, emit: (event: EventRecord) => void): void => {
    const active = listeners.filter((u) => u.from < period.end && u.until > period.start);
    const published = episodes().filter((e) => publishedAt(e) < period.end);
    let made = 0;
    if (active.length === 0 || published.length === 0) {
      for (; made < quota; made++) emit(standalone(period.start + prng.int(0, (period.end - period.start) / 1000 - 1) * 1000));
      return;
    }
    const byActivity = cumulate(active.map((u) => u.person.activity));
    // Newer episodes are likelier to be played; their age is taken at the middle of the period.
    const middle = (period.start + period.end) / 2;
    const byRecency = cumulate(published.map((e) => 1 / (1 + Math.max(0, middle - publishedAt(e)) / (28 * DAY))));
    while (made < quota) {
      const user = active[pickIndex(byActivity, prng.next())]!;
      const from = Math.max(period.start, user.from);
      // Sessions start early enough to end inside the period (at most ~3 h with a download before).
      const start = from + prng.int(0, Math.max(0, (period.end - from) / 1000 - 4 * 3600)) * 1000;
      const episode = published[pickIndex(byRecency, prng.next())]!;
      for (const e of session(user, episode, start)) {
        if (made < quota) {
          emit(e);
          made++;
        }
      }
    }
  };

  return { generate, standalone };
}

const releases: [number, string][] = [
  [Date.UTC(2024, 10, 4), "4.0"], [Date.UTC(2024, 7, 5), "3.2"], [Date.UTC(2024, 3, 8), "3.1"], [Date.UTC(2023, 10, 6), "3.0"],
];

/** The version a user runs: minor releases go out every three weeks, and people update late. */
function appVersion(at: number): string {
  const [date, version] = releases.find(([d]) => at >= d) ?? releases[releases.length - 1]!;
  return `${version}.${Math.min(9, Math.floor((at - date) / (21 * DAY)))}`;
}

const publishedMs = new Map<string, number>();

function publishedAt(episode: Episode): number {
  let ms = publishedMs.get(episode.episodeId);
  if (ms === undefined) publishedMs.set(episode.episodeId, (ms = Date.parse(`${episode.publishedDate}T00:00:00Z`)));
  return ms;
}

/** The same instant written in a local time with its UTC offset, as some clients send it. */
function withOffset(at: number, minutes: number): string {
  const local = new Date(at + minutes * 60_000).toISOString().slice(0, 23);
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

function uuid(prng: Prng): string {
  const h = prng.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${"89ab"[parseInt(h[16]!, 16) & 3]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function cumulate(weights: number[]): number[] {
  let sum = 0;
  return weights.map((w) => (sum += w));
}

function pickIndex(cumulative: number[], r: number): number {
  const target = r * cumulative[cumulative.length - 1]!;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
