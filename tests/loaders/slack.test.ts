import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { strToU8, unzipSync, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { UserError } from "../../runner/errors.ts";
import { loadSlack } from "../../loaders/slack/load.ts";
import { decodeSlackText } from "../../loaders/slack/text.ts";
import { duckform } from "../util/cli.ts";
import { queryRows, tempDatabase, tempDir } from "../util/tmp.ts";

const archive = fileURLToPath(new URL("../../../shared/fixtures/slack-export-viewer-testarchive.zip", import.meta.url));

/** Writes an export folder from `{ "path/in/export.json": value or raw text }`. */
function writeExport(files: Record<string, unknown>): string {
  const dir = tempDir("duckform-slack-");
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), typeof content === "string" ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

const message = (sql: string) => `select payload->>'$.text' as text, payload from raw.slack_messages where ${sql}`;

describe("decodeSlackText", () => {
  const names = {
    user: (id: string) => ({ U1: "anna", U2: "Ben Ito" })[id],
    channel: (id: string) => ({ C1: "general" })[id],
  };

  it("turns mentions, channel links, broadcasts, links and entities into what a reader sees", () => {
    expect(decodeSlackText("<@U1> ping <@U2|old> and <@U9>", names)).toBe("@anna ping @Ben Ito and @U9");
    expect(decodeSlackText("see <#C1|general> and <#C1>", names)).toBe("see #general and #general");
    expect(decodeSlackText("<!here> <!channel> <!everyone> <!subteam^S1|@design>", names)).toBe("@here @channel @everyone @design");
    expect(decodeSlackText("<https://a.io/x?y=1&amp;z=2|the docs> or <https://b.io>", names)).toBe("the docs or https://b.io");
    expect(decodeSlackText("a &lt;b&gt; &amp; c &amp;lt;", names)).toBe("a <b> & c &lt;");
  });
});

describe("loadSlack on the real 2016 export", () => {
  it("lands its 4 users, 2 channels and 158 messages from the zip, one ledger row per file", async () => {
    const db = await tempDatabase();
    const states: unknown[] = [];
    const results = await loadSlack(db, archive, { onProgress: (state) => states.push({ ...state }) });
    expect(results.every((r) => r.status === "landed")).toBe(true);
    expect(states.at(-1)).toMatchObject({ files: 19, totalFiles: 19, rows: 164, bytes: 135_272, totalBytes: 135_272 });
    expect(
      await queryRows(
        db,
        `select (select count(*) from raw.slack_users)::int as users,
                (select count(*) from raw.slack_channels)::int as channels,
                (select count(*) from raw.slack_messages)::int as messages,
                (select count(*) from raw.quarantine)::int as quarantined,
                (select count(*) from raw.load_ledger)::int as files`,
      ),
    ).toEqual([{ users: 4, channels: 2, messages: 158, quarantined: 0, files: 19 }]);
    expect(
      await queryRows(
        db,
        `select payload->>'$.chat_name' as chat, payload->>'$.chat_id' as chat_id, count(*)::int as n
         from raw.slack_messages group by all order by chat`,
      ),
    ).toEqual([
      { chat: "enrique", chat_id: "C0JGLMMNX", n: 102 },
      { chat: "traveling-sailor", chat_id: "C0JL6CGQ2", n: 56 },
    ]);
    expect(
      await queryRows(
        db,
        "select file_name, rows_landed::int as n from raw.load_ledger where file_name like '%/enrique/2016-01-1%' order by 1",
      ),
    ).toEqual([
      // Each file is known by its workspace (the team id of users.json) and its path in the export.
      { file_name: "T0BMHLSRH/enrique/2016-01-14.json", n: 6 },
      { file_name: "T0BMHLSRH/enrique/2016-01-15.json", n: 6 },
      { file_name: "T0BMHLSRH/enrique/2016-01-16.json", n: 2 },
    ]);
  });

  it("writes joins as service messages by the named user, and bots as via_bot", async () => {
    const db = await tempDatabase();
    await loadSlack(db, archive);
    const [join] = await queryRows(db, message("_file = 'T0BMHLSRH/enrique/2016-01-14.json' and _line = 9"));
    expect(join!.text).toBe("@abilinski has joined the channel");
    expect(JSON.parse(String(join!.payload))).toMatchObject({
      source: "slack",
      type: "service",
      subtype: "channel_join",
      author: "abilinski",
      author_id: "U0BMYT2FL",
      message_id: "1452837318.000003",
      sent_at: "2016-01-15T05:55:18.000003Z",
    });
    expect(
      await queryRows(
        db,
        `select payload->>'$.type' as type, (payload->>'$.via_bot')::boolean as via_bot, count(*)::int as n
         from raw.slack_messages group by all order by all`,
      ),
    ).toEqual([
      { type: "regular", via_bot: false, n: 53 },
      { type: "regular", via_bot: true, n: 94 },
      { type: "service", via_bot: false, n: 11 },
    ]);
    // The GitHub integration's bots post without a name; their bot id stands in for author and author_id.
    expect(
      await queryRows(
        db,
        "select distinct payload->>'$.author' as bot from raw.slack_messages where (payload->>'$.via_bot')::boolean order by 1",
      ),
    ).toEqual([{ bot: "B0JL6RASU" }, { bot: "B0JL6UFSL" }, { bot: "B0VJZKVHC" }]);
  });

  it("keeps ts as text, unescapes \\/ and entities, and reads old-style file shares, edits and reactions", async () => {
    const db = await tempDatabase();
    await loadSlack(db, archive);
    const [quote] = await queryRows(db, message("payload->>'$.message_id' = '1458228721.000002'"));
    expect(quote?.text).toMatch(/^>"Essentially what I'm getting/);
    const [share] = await queryRows(db, message("payload->>'$.message_id' = '1459052866.000012'"));
    expect(share!.text).toBe("@doubledeez uploaded a file: 100 cities");
    expect(JSON.parse(String(share!.payload))).toMatchObject({
      media_type: "file",
      files: [{ id: "F0VNAKDE2", name: "100_cities.js", size: 4163, created_at: "2016-03-27T04:27:46.000000Z" }],
    });
    const [edited] = await queryRows(
      db,
      "select payload->>'$.edited_at' as at from raw.slack_messages where payload->>'$.edited_at' is not null",
    );
    expect(edited).toEqual({ at: "2016-03-26T08:32:14.000000Z" });
    const [reacted] = await queryRows(
      db,
      "select payload->'$.reactions' as r from raw.slack_messages where payload->>'$.reactions' is not null",
    );
    expect(JSON.parse(String(reacted!.r))).toEqual([{ type: "emoji", emoji: "botman", count: 1, users: ["U0BMYT2FL"] }]);
    const [link] = await queryRows(db, message("_file = 'T0BMHLSRH/enrique/2016-01-16.json' and _line = 2"));
    expect(link!.text).toBe("@abilinski: https://github.com/mesos-magellan/miguel/blob/master/setup.py");
    expect(await queryRows(db, "select count(*)::int as n from raw.slack_messages where payload::varchar like '%\\/%'")).toEqual([
      { n: 0 },
    ]);
  });

  it("skips every file on a second load, from the zip or from the same export unpacked", async () => {
    const db = await tempDatabase();
    await loadSlack(db, archive);
    const again = await loadSlack(db, archive);
    expect(again.map((r) => r.status)).toEqual(Array(19).fill("skipped"));
    const dir = writeExport({});
    for (const [name, bytes] of Object.entries(unzipSync(readFileSync(archive)))) {
      if (name.endsWith("/")) continue;
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), bytes);
    }
    const unpacked = await loadSlack(db, dir);
    expect(unpacked.filter((r) => r.status !== "skipped")).toEqual([]);
    expect(await queryRows(db, "select count(*)::int as n from raw.slack_messages")).toEqual([{ n: 158 }]);
  });
});

describe("loadSlack on other shapes of export", () => {
  const users = [
    { id: "U1", team_id: "T1", name: "anna", profile: { display_name: "Anna", real_name: "Anna Berg" } },
    { id: "U2", team_id: "T1", name: "ben", profile: { display_name: "", real_name: "Ben Ito" } },
    { id: "UB", team_id: "T1", name: "helper", is_bot: true, profile: { real_name: "Helper" } },
  ];

  it("resolves DMs by id, threads, shares, new-style files and bot users", async () => {
    const dir = writeExport({
      "users.json": users,
      "channels.json": [{ id: "C1", name: "general", created: 1700000000, members: ["U1", "U2"] }],
      "dms.json": [{ id: "D1", created: 1700000000, members: ["U1", "U2"] }],
      "general/2024-03-01.json": [
        {
          type: "message",
          user: "U1",
          text: "parent <#C1|general>",
          ts: "1709290800.000100",
          thread_ts: "1709290800.000100",
          reply_count: 1,
        },
        {
          type: "message",
          user: "U2",
          text: "reply to <@U1>",
          ts: "1709290860.000200",
          thread_ts: "1709290800.000100",
          parent_user_id: "U1",
        },
        {
          type: "message",
          user: "U2",
          text: "",
          ts: "1709290900.000300",
          attachments: [{ is_share: true, author_name: "Anna Berg", fallback: "[March 1st] Anna: the plan", text: "the plan" }],
        },
        {
          type: "message",
          user: "U1",
          text: "pic",
          ts: "1709291000.000400",
          files: [{ id: "F1", name: "a.png", mimetype: "image/png", size: 10, created: 1709291000 }],
        },
        { type: "message", user: "UB", bot_id: "B1", text: "beep", ts: "1709291100.000500" },
      ],
      "D1/2024-03-02.json": [{ type: "message", user: "U1", text: "hi Ben", ts: "1709377200.000100" }],
    });
    const db = await tempDatabase();
    await loadSlack(db, dir);
    const rows = await queryRows(db, "select payload from raw.slack_messages order by payload->>'$.message_id'");
    const got = rows.map((r) => JSON.parse(String(r.payload)));
    expect(got.map((m) => [m.chat_id, m.chat_name, m.author, m.text])).toEqual([
      ["C1", "general", "Anna", "parent #general"],
      ["C1", "general", "Ben Ito", "reply to @Anna"],
      ["C1", "general", "Ben Ito", "[March 1st] Anna: the plan"],
      ["C1", "general", "Anna", "pic"],
      ["C1", "general", "Helper", "beep"],
      ["D1", "Anna, Ben Ito", "Anna", "hi Ben"],
    ]);
    expect(got[0]).toMatchObject({ reply_to_message_id: null, thread_ts: "1709290800.000100" });
    expect(got[1]).toMatchObject({ reply_to_message_id: "1709290800.000100" });
    expect(got[2]).toMatchObject({ forwarded_from: "Anna Berg" });
    expect(got[3]).toMatchObject({ media_type: "photo", files: [{ id: "F1", mimetype: "image/png" }] });
    expect(got[4]).toMatchObject({ via_bot: true, author: "Helper", author_id: "UB" });
    expect(got[0]).toMatchObject({ via_bot: false });
  });

  it("quarantines a truncated day file whole and a non-message element alone, landing the rest", async () => {
    const dir = writeExport({
      "users.json": users,
      "channels.json": [{ id: "C1", name: "general" }],
      "general/2024-03-01.json": '[\n  {"type": "message", "user": "U1", "text": "cut off", "ts": "17092',
      "general/2024-03-02.json": [
        { type: "message", user: "U1", text: "fine", ts: "1709377200.000100" },
        "not a message",
        { type: "message", user: "U2", text: "no ts" },
        { type: "message", user: "U2", text: "also fine", ts: "1709377300.000100" },
      ],
    });
    const db = await tempDatabase();
    const results = await loadSlack(db, dir);
    expect(results.filter((r) => r.table === "slack_messages").map((r) => [r.fileName, r.rowsLanded, r.rowsQuarantined])).toEqual([
      ["T1/general/2024-03-01.json", 0, 1],
      ["T1/general/2024-03-02.json", 2, 2],
    ]);
    const quarantine = await queryRows(db, "select _file, _line, error from raw.quarantine order by _file, _line");
    expect(quarantine).toHaveLength(3);
    expect(quarantine[0]).toMatchObject({ _file: "T1/general/2024-03-01.json", _line: 2 });
    expect(String(quarantine[0]!.error)).toMatch(/^not a JSON array/);
    expect(quarantine.slice(1)).toEqual([
      { _file: "T1/general/2024-03-02.json", _line: 8, error: "message is not a JSON object" },
      { _file: "T1/general/2024-03-02.json", _line: 9, error: "message has no ts" },
    ]);
  });

  it("reads a zip whose export sits in one top folder, naming files from inside that folder", async () => {
    const zip = join(tempDir(), "Acme Slack export Mar 1 2024.zip");
    writeFileSync(
      zip,
      zipSync({
        "Acme export/users.json": strToU8(JSON.stringify(users)),
        "Acme export/channels.json": strToU8(JSON.stringify([{ id: "C1", name: "general" }])),
        "Acme export/general/2024-03-01.json": strToU8(
          JSON.stringify([{ type: "message", user: "U1", text: "hi", ts: "1709290800.000100" }]),
        ),
        "__MACOSX/Acme export/._users.json": strToU8("junk"),
      }),
    );
    const db = await tempDatabase();
    const results = await loadSlack(db, zip);
    expect(results.map((r) => [r.table, r.fileName, r.path.endsWith(`.zip!/Acme export/${r.fileName.replace(/^T1\//, "")}`)])).toEqual([
      ["slack_users", "T1/users.json", true],
      ["slack_channels", "T1/channels.json", true],
      ["slack_messages", "T1/general/2024-03-01.json", true],
    ]);
    expect(await queryRows(db, "select payload->>'$.author' as author, payload->>'$.chat_name' as chat from raw.slack_messages")).toEqual([
      { author: "Anna", chat: "general" },
    ]);
  });

  it("lands a channel's many day files in batches, each file once in the ledger", async () => {
    const files: Record<string, unknown> = { "users.json": users, "channels.json": [{ id: "C1", name: "general" }] };
    const day0 = Date.UTC(2023, 0, 1);
    for (let d = 0; d < 501; d++) {
      const ts = `${(day0 + d * 86_400_000) / 1000 + 3600}.000100`;
      files[`general/${new Date(day0 + d * 86_400_000).toISOString().slice(0, 10)}.json`] = [
        { type: "message", user: "U1", text: `day ${d}`, ts },
      ];
    }
    const db = await tempDatabase();
    const states: { files: number }[] = [];
    await loadSlack(db, writeExport(files), { onProgress: (state) => states.push({ ...state }) });
    expect(states.map((s) => s.files)).toEqual([1, 2, 502, 503]);
    expect(await queryRows(db, "select count(*)::int as messages, count(distinct _file)::int as files from raw.slack_messages")).toEqual([
      { messages: 501, files: 501 },
    ]);
    expect(await queryRows(db, "select count(*)::int as n from raw.load_ledger where source_table = 'slack_messages'")).toEqual([
      { n: 501 },
    ]);
  });

  it("refuses a path that is not a Slack export with an error naming it", async () => {
    const db = await tempDatabase();
    const dir = writeExport({ "notes.json": [] });
    await expect(loadSlack(db, dir)).rejects.toThrow(UserError);
    await expect(loadSlack(db, dir)).rejects.toThrow(/is not a Slack export/);
    await expect(loadSlack(db, join(dir, "missing.zip"))).rejects.toThrow(/does not exist/);
  });

  it("runs as `duckform load slack`, printing what landed, then what it skipped", async () => {
    const dir = writeExport({ "dataform.json": { defaultDatabase: "demo" } });
    const first = await duckform(["load", "slack", archive, "--project", dir]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /^load slack: files 19 landed, 0 skipped, 0 refused; 164 rows landed, 0 quarantined in \d+\.\d s \(raw\.slack_users 4, raw\.slack_channels 2, raw\.slack_messages 158\)\n$/,
    );
    const again = await duckform(["load", "slack", archive, "--project", dir]);
    expect(again.stdout).toMatch(/^load slack: files 0 landed, 19 skipped, 0 refused; 0 rows landed/);
    const missing = await duckform(["load", "slack", join(dir, "nope.zip"), "--project", dir]);
    expect(missing).toMatchObject({ code: 1, stderr: `duckform: Slack export ${join(dir, "nope.zip")} does not exist\n` });
  }, 30_000);
});
