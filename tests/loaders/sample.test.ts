import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TINY_SAMPLE, generateSample } from "../../loaders/sample/generate.ts";
import { EVENT_TYPES } from "../../loaders/sample/activity.ts";
import { loadNdjson } from "../../loaders/ndjson/load.ts";
import { loadSeeds } from "../../loaders/seeds/load.ts";
import { loadSlack } from "../../loaders/slack/load.ts";
import { loadTelegram } from "../../loaders/telegram/load.ts";
import { duckform } from "../util/cli.ts";
import { tinySample } from "../util/sample.ts";
import { queryRows, tempDatabase, tempDir } from "../util/tmp.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const seedUsers = new Set(
  readFileSync(join(repo, "seeds/users.csv"), "utf8")
    .split("\n")
    .slice(1)
    .map((l) => l.split(",")[0])
    .filter(Boolean),
);

/** Every file under `dir` with a hash of its bytes. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  walk(dir);
  return out;
}

/** The event files' lines, each as [file, 1-based line, text]. */
function eventLines(dir: string): [string, number, string][] {
  const folder = join(dir, "events");
  return readdirSync(folder)
    .sort()
    .flatMap((file) => {
      const text = readFileSync(join(folder, file), "utf8");
      return text
        .slice(0, -1)
        .split("\n")
        .map((line, i): [string, number, string] => [file, i + 1, line]);
    });
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(line);
    return value && typeof value === "object" && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

describe("generateSample", () => {
  it("writes the same bytes for the same seed and different events for another", async () => {
    const a = tempDir();
    const b = tempDir();
    const c = tempDir();
    await generateSample(a, TINY_SAMPLE);
    await generateSample(b, TINY_SAMPLE);
    await generateSample(c, { ...TINY_SAMPLE, seed: TINY_SAMPLE.seed + 1 });
    expect(fingerprint(a)).toEqual(fingerprint(b));
    const [fa, fc] = [fingerprint(a), fingerprint(c)];
    expect(fa["events/2024-03-04_week.ndjson"]).not.toBe(fc["events/2024-03-04_week.ndjson"]);
  });

  it("lays out weekly event files through November, then daily ones, plus slack/, telegram/ and manifest.json", async () => {
    const { dir, manifest } = await tinySample();
    const files = readdirSync(join(dir, "events")).sort();
    expect(files).toHaveLength(48 + 30);
    expect(files[0]).toBe("2024-01-01_week.ndjson");
    expect(files[47]).toBe("2024-11-25_week.ndjson");
    expect(files[48]).toBe("2024-12-02_day.ndjson");
    expect(files.at(-1)).toBe("2024-12-31_day.ndjson");
    expect(existsSync(join(dir, "slack", "users.json"))).toBe(true);
    expect(existsSync(join(dir, "telegram", "export_results.html"))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"))).toEqual(JSON.parse(JSON.stringify(manifest)));
  });

  it("plants exactly the malformed lines, blank lines, invalid rows, duplicates and late events its manifest lists", async () => {
    const { dir, manifest } = await tinySample();
    const e = manifest.events;
    const lines = eventLines(dir);
    expect(lines).toHaveLength(e.lines);
    expect(e.lines).toBe(400 + 3 + 1 + 1 + 1 + 6);

    const blank = lines.filter(([, , t]) => t === "");
    expect(blank.map(([file, line]) => ({ file, line }))).toEqual(e.blank);
    const broken = lines.filter(([, , t]) => t !== "" && !parseObject(t));
    expect(broken.map(([file, line]) => ({ file, line }))).toEqual(e.malformed.map(({ file, line }) => ({ file, line })));
    expect(e.malformed.map((m) => m.kind).sort()).toEqual(["trailing_garbage", "truncated"]);

    const at = (file: string, line: number) => parseObject(lines.find(([f, l]) => f === file && l === line)![2])!;
    expect(e.invalid.map((i) => i.code).sort()).toEqual([
      "bad_timestamp",
      "missing_event_id",
      "negative_duration",
      "timestamp_out_of_range",
      "unknown_event_type",
      "unknown_user",
    ]);
    for (const bad of e.invalid) {
      const row = at(bad.file, bad.line);
      if (bad.code === "missing_event_id") expect(row).not.toHaveProperty("event_id");
      if (bad.code === "bad_timestamp")
        expect(
          Number.isNaN(Date.parse(String(row.occurred_at))) ||
            !/^\d{4}-\d\d-\d\dT/.test(String(row.occurred_at)) ||
            String(row.occurred_at).startsWith("2024-02-30"),
        ).toBe(true);
      if (bad.code === "timestamp_out_of_range") expect(String(row.occurred_at).startsWith("2024")).toBe(false);
      if (bad.code === "negative_duration") expect(Number(row.duration_seconds)).toBeLessThan(0);
      if (bad.code === "unknown_user") expect(seedUsers.has(String(row.user_id))).toBe(false);
      if (bad.code === "unknown_event_type") expect(EVENT_TYPES).not.toContain(row.event_type);
    }

    expect(e.duplicates).toHaveLength(3);
    for (const d of e.duplicates) {
      const copy = at(d.file, d.line);
      const original = at(d.originalFile, d.originalLine);
      expect(copy.event_id).toBe(d.eventId);
      expect({ ...copy, received_at: null }).toEqual({ ...original, received_at: null });
      expect(Date.parse(String(copy.received_at))).toBeGreaterThan(Date.parse(String(original.received_at)));
      expect(d.file > d.originalFile).toBe(true);
    }
    expect(e.late).toHaveLength(3);
    for (const l of e.late) {
      const period = manifest.events.files.find((f) => f.name === l.file)!;
      expect(Date.parse(String(at(l.file, l.line).occurred_at))).toBeLessThan(Date.parse(`${period.from}T00:00:00Z`));
    }
  });

  it("makes every other event a valid 2024 event of a seed user, each event_id once", async () => {
    const { dir, manifest } = await tinySample();
    const e = manifest.events;
    const planted = new Set([...e.invalid, ...e.duplicates].map((p) => `${p.file}:${p.line}`));
    const valid = eventLines(dir)
      .filter(([file, line]) => !planted.has(`${file}:${line}`))
      .map(([, , t]) => parseObject(t))
      .filter((row) => row !== undefined);
    expect(valid).toHaveLength(e.validEvents);
    expect(new Set(valid.map((v) => v.event_id)).size).toBe(e.validEvents);
    for (const v of valid) {
      expect(seedUsers.has(String(v.user_id))).toBe(true);
      expect(EVENT_TYPES).toContain(v.event_type);
      const t = Date.parse(String(v.occurred_at));
      expect(t >= Date.UTC(2024, 0, 1) && t < Date.UTC(2025, 0, 1)).toBe(true);
      if (v.duration_seconds !== undefined) expect(Number(v.duration_seconds)).toBeGreaterThanOrEqual(0);
    }
    const byType = Object.fromEntries(EVENT_TYPES.map((t) => [t, valid.filter((v) => v.event_type === t).length]));
    expect(byType).toEqual(e.validByType);
    expect(byType.play).toBeGreaterThan(0);
  });

  it("lands through `load ndjson` as the manifest says: objects land, broken lines are quarantined where it put them", async () => {
    const { dir, manifest } = await tinySample();
    const e = manifest.events;
    const db = await tempDatabase();
    const results = await loadNdjson(db, [join(dir, "events")], { table: "events" });
    expect(results).toHaveLength(78);
    expect(results.reduce((n, r) => n + r.blankLines, 0)).toBe(e.blank.length);
    expect(await queryRows(db, "select count(*)::int as n, count(distinct payload->>'$.event_id')::int as ids from raw.events")).toEqual([
      { n: e.jsonObjects, ids: e.validEvents + e.invalid.filter((i) => i.eventId !== null).length },
    ]);
    expect(await queryRows(db, "select _file, _line from raw.quarantine order by _file, _line")).toEqual(
      e.malformed.map((m) => ({ _file: m.file, _line: m.line })).sort((a, b) => a._file.localeCompare(b._file) || a._line - b._line),
    );
  });

  it("writes a Slack export that lands as the manifest says, its people the seed users plus three guests", async () => {
    const { dir, manifest } = await tinySample();
    const db = await tempDatabase();
    await loadSeeds(db, repo);
    const results = await loadSlack(db, join(dir, "slack"));
    expect(results.every((r) => r.status === "landed" && r.rowsQuarantined === 0)).toBe(true);
    const [counts] = await queryRows(
      db,
      `select count(*)::int as messages,
              count(*) filter (payload->>'$.type' = 'service')::int as service,
              count(*) filter ((payload->>'$.via_bot')::boolean and (payload->>'$.type') = 'regular')::int as bot,
              count(*) filter (payload->>'$.reply_to_message_id' is not null)::int as replies
       from raw.slack_messages`,
    );
    expect(counts).toEqual({
      messages: manifest.slack.messages,
      service: manifest.slack.service,
      bot: manifest.slack.botMessages,
      replies: manifest.slack.threadReplies,
    });
    expect(manifest.slack.messages).toBe(manifest.slack.regular + manifest.slack.service);
    expect(manifest.slack.threadReplies).toBeGreaterThan(0);
    const [people] = await queryRows(
      db,
      `select count(*)::int as slack_users,
              count(u.user_id)::int as seed_users,
              list_sort(list(s.payload->>'$.id') filter (u.user_id is null and not (s.payload->>'$.is_bot')::boolean)) as guests
       from raw.slack_users s left join seeds.users u on u.slack_user_id = (s.payload->>'$.id')`,
    );
    expect(people).toEqual({
      slack_users: manifest.slack.users,
      seed_users: manifest.slack.users - 4,
      guests: [...manifest.slack.unmappedUserIds].sort(),
    });
    const [channels] = await queryRows(
      db,
      `select count(*)::int as n from raw.slack_channels c
       where c.payload->>'$.name' in (select slack_group from seeds.company_mapping)`,
    );
    expect(channels).toEqual({ n: 6 });
  });

  it("writes Telegram company groups in 2024 whose authors are seed users, but for one outsider per chat", async () => {
    const { dir, manifest } = await tinySample();
    const db = await tempDatabase();
    await loadSeeds(db, repo);
    await loadTelegram(db, [join(dir, "telegram")], { threads: 0 });
    expect(await queryRows(db, "select count(*)::int as n from raw.quarantine")).toEqual([{ n: 0 }]);
    const groups = manifest.telegram.groups;
    const rows = await queryRows(
      db,
      `with m as (
         select payload->>'$.chat_name' as chat, payload->>'$.type' as type, payload->>'$.author' as author,
                (payload->>'$.sent_at')::timestamptz as sent_at
         from raw.telegram_messages
         where (payload->>'$.chat_name') in (select telegram_group from seeds.company_mapping)
       )
       select count(*) filter (type = 'regular')::int as messages,
              count(*) filter (type = 'service')::int as service,
              count(*) filter (type = 'regular' and year(sent_at) <> 2024)::int as outside_2024,
              list_sort(list(distinct author) filter (type = 'regular' and author not in (select telegram_name from seeds.users where telegram_name is not null))) as unmapped
       from m`,
    );
    expect(rows).toEqual([
      { messages: groups.messages, service: groups.service, outside_2024: 0, unmapped: [...groups.unmappedAuthors].sort() },
    ]);
    expect(groups.chats.map((c) => c.name)).toEqual([
      "Earshot Beta Community",
      "Earshot × Northwind",
      "Earshot × Kestrel Health",
      "Orbit ↔ Earshot",
      "Halcyon Bank pilot",
      "Tidewater Studios + Earshot",
    ]);
  });

  it("runs as `duckform generate-sample --tiny --write-seeds`, writing the sample and the project's seeds", async () => {
    const dir = tempDir();
    const result = await duckform(["generate-sample", dir, "--tiny", "--write-seeds", join(dir, "seeds")]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^generate-sample: 78 event files, 412 lines \(400 valid events, 3 duplicates, 3 late, 2 malformed, 6 invalid, 1 blank\)/,
    );
    expect(readdirSync(join(dir, "seeds")).sort()).toEqual([
      "company_mapping.csv",
      "message_categories.csv",
      "podcast_episodes.csv",
      "seeds.yaml",
      "users.csv",
    ]);
    expect(readFileSync(join(dir, "seeds", "users.csv"), "utf8")).toBe(readFileSync(join(repo, "seeds", "users.csv"), "utf8"));
    // The same tiny sample the tests use, byte for byte, from another process.
    expect(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"))).toEqual(JSON.parse(JSON.stringify((await tinySample()).manifest)));
    const bad = await duckform(["generate-sample", dir, "--events", "lots"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected a whole number ≥ 0, got "lots"');
  }, 30_000);
});
