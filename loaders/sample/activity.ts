import { createHash } from "node:crypto";
import type { Prng } from "./prng.ts";
import { episodes, type Episode } from "./catalog.ts";
import { people, type Person } from "./world.ts";

/**
 * The listeners behind the sample's product events: who signs up and churns, which plan and
 * platform each has, and the sessions they play, download and share in.
 */

/** The event types a valid product event has: includes/constants.js's EVENT_TYPES, which a test keeps equal. */
export const EVENT_TYPES = ["play", "pause", "complete", "download", "share", "credit_limit_hit", "upgrade"] as const;

export const DAY = 86_400_000;

/** Monthly credits by plan; playing a premium episode the first time costs its `credits_cost`. */
export const CREDIT_LIMITS = { free: 3, plus: 20, team: 60 } as const;

/** When the server received an event, as milliseconds; a symbol key, so JSON.stringify leaves it out. */
export const RECEIVED = Symbol("receivedAt");

/** One file of events and the time it covers. */
export interface Period {
  name: string;
  start: number;
  end: number;
}

export type EventRecord = Record<string, string | number | null> & { [RECEIVED]?: number };

let isoDay = NaN;
let isoPrefix = "";

/** `toISOString()`, with the date part cached: events come day by day, and this is the hot path. */
export function iso(ms: number): string {
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

export type ActivityModel = ReturnType<typeof activityModel>;

/** Who listens when: sign-ups, churn, plans and monthly credits, platform and app version. */
export function activityModel(prng: Prng) {
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
      events.push(
        event(user, episode, "share", t, { share_target: prng.pick(["copy_link", "whatsapp", "telegram", "slack", "email"]) }, sessionId),
      );
    }
    return events;
  };

  const upgraded = new Set<string>();
  /**
   * A third of the free and plus listeners (by a hash of their id, not a draw: the generator's
   * random stream stays as it was) upgrade to the next plan at the paywall, a minute after their
   * first credit-limit hit. The sample's credit model keeps each listener's seed plan (plans have
   * no history), so later months still count against the old limit.
   */
  const upgradeAfter = (user: Listener, hit: EventRecord): EventRecord | null => {
    const { userId, plan } = user.person;
    if (plan === "team" || upgraded.has(userId) || digest(userId).readUInt32BE(0) % 3 !== 0) return null;
    upgraded.add(userId);
    const at = hit[RECEIVED]! + 60_000;
    const h = digest(`${String(hit.event_id)}:upgrade`).toString("hex");
    const record: EventRecord = {
      event_id: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`,
      user_id: userId,
      event_type: "upgrade",
      occurred_at: iso(at),
      received_at: iso(at + 2000),
      session_id: hit.session_id!,
      episode_id: hit.episode_id!,
      credit_limit: CREDIT_LIMITS[plan === "free" ? "plus" : "team"],
      platform: user.platform,
      app_version: hit.app_version!,
    };
    record[RECEIVED] = at + 2000;
    return record;
  };

  /** One valid play event at `at`, for the planted lines and periods without listeners. */
  const standalone = (at: number, receivedAt = at + 2000): EventRecord => {
    const user = prng.pick(listeners);
    const episode = prng.pick(episodes().filter((e) => e.episodeId <= "ep_0004"));
    return event(user, episode, "play", at, { position_seconds: 0, credits_used: 0 }, `s_${prng.hex(12)}`, receivedAt);
  };

  /** Exactly `quota` valid events in `period`, in listening sessions, and the upgrades after their credit-limit hits. */
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
          const upgrade = e.event_type === "credit_limit_hit" ? upgradeAfter(user, e) : null;
          // On top of the quota: the upgrades leave every other event of the sample as it was.
          if (upgrade) emit(upgrade);
        }
      }
    }
  };

  return { generate, standalone };
}

const releases: [number, string][] = [
  [Date.UTC(2024, 10, 4), "4.0"],
  [Date.UTC(2024, 7, 5), "3.2"],
  [Date.UTC(2024, 3, 8), "3.1"],
  [Date.UTC(2023, 10, 6), "3.0"],
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

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
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
