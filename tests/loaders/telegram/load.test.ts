import { execFile } from "node:child_process";
import { cpSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { generateTelegramExport } from "../../../loaders/sample/telegramExport.ts";
import { loadTelegram } from "../../../loaders/telegram/load.ts";
import { Database } from "../../../runner/database.ts";
import { queryRows, tempDatabase, tempDir } from "../../util/tmp.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures/telegram");
const HTML_ACCOUNT = join(FIXTURES, "html-account/DataExport_2024-01-07");
const ROOT = join(import.meta.dirname, "../../..");

async function count(db: Awaited<ReturnType<typeof tempDatabase>>, sql: string): Promise<number> {
  return Number(Object.values((await queryRows(db, sql))[0]!)[0]);
}

describe("loadTelegram", () => {
  it("lands every message of an HTML export into raw.telegram_messages, one ledger row per page file", async () => {
    const db = await tempDatabase();
    const { chats, results } = await loadTelegram(db, [HTML_ACCOUNT], { threads: 2 });
    expect(chats).toBe(3);
    expect(results.map((r) => [r.fileName, r.status, r.rowsLanded]).sort()).toEqual([
      ["DataExport_2024-01-07/chats/chat_1/messages.html", "landed", 8],
      ["DataExport_2024-01-07/chats/chat_1/messages2.html", "landed", 4],
      ["DataExport_2024-01-07/chats/chat_2/messages.html", "landed", 1],
      ["DataExport_2024-01-07/chats/chat_3/messages.html", "landed", 2],
    ]);
    expect(await count(db, "select count(*) from raw.telegram_messages")).toBe(15);
    expect(await count(db, "select count(*) from raw.telegram_messages where payload->>'type' = 'service'")).toBe(2);
    // HTML carries no chat id: raw keeps none, and the definitions know a chat by its name.
    expect(await count(db, "select count(*) from raw.telegram_messages where payload->>'chat_id' is not null")).toBe(0);
    expect(await count(db, "select count(distinct payload->>'chat_name') from raw.telegram_messages")).toBe(3);
    const rows = await queryRows(
      db,
      `select payload->>'author' as author, payload->>'sent_at' as sent_at, _file, _line
       from raw.telegram_messages where (payload->>'message_id')::int = 10`,
    );
    expect(rows).toMatchObject([
      { author: "Chen Li", sent_at: "2024-01-06T06:06:00.000Z", _file: "DataExport_2024-01-07/chats/chat_1/messages2.html" },
    ]);
    expect(await count(db, "select count(*) from raw.load_ledger where source_table = 'telegram_messages'")).toBe(4);
  });

  it("accounts for every message of a page with one unclosed <div>: landed + quarantined = the page's messages", async () => {
    const dir = join(tempDir(), "export");
    cpSync(HTML_ACCOUNT, dir, { recursive: true });
    const page = join(dir, "chats/chat_1/messages2.html");
    const broken = readFileSync(page, "utf8").replace(
      /(In reply to <a href="messages\.html#go_to_message3">this message<\/a>\n)\s*<\/div>/,
      "$1",
    );
    writeFileSync(page, broken);
    const db = await tempDatabase();
    const { results } = await loadTelegram(db, [dir], { threads: 0 });
    expect(results.find((r) => r.fileName.endsWith("chat_1/messages2.html"))).toMatchObject({
      status: "landed",
      rowsLanded: 2,
      rowsQuarantined: 2,
    });
    expect(await queryRows(db, "select _line, error from raw.quarantine order by _line")).toEqual([
      { _line: 26, error: "message 9: its markup is not closed before message element message10 begins" },
      { _line: 60, error: "joined message with no author before it in its page file" },
    ]);
  });

  it("parses the same rows on worker threads as on the calling thread", async () => {
    const payloads = async (threads: number) => {
      const db = await tempDatabase();
      await loadTelegram(db, [HTML_ACCOUNT, join(FIXTURES, "json-chat/ChatExport_2024-01-10")], { threads });
      return (await queryRows(db, "select payload::varchar as p, _file, _line from raw.telegram_messages order by all")) as unknown[];
    };
    const inline = await payloads(0);
    expect(inline).toHaveLength(21);
    expect(await payloads(2)).toEqual(inline);
  });

  it("skips an export landed before, adding no rows", async () => {
    const db = await tempDatabase();
    await loadTelegram(db, [HTML_ACCOUNT], { threads: 0 });
    const { results } = await loadTelegram(db, [HTML_ACCOUNT], { threads: 0 });
    expect(results.map((r) => r.status)).toEqual(["skipped", "skipped", "skipped", "skipped"]);
    expect(await count(db, "select count(*) from raw.telegram_messages")).toBe(15);
  });

  it("quarantines messages it cannot read with their HTML and reason, and lands the rest", async () => {
    const db = await tempDatabase();
    await loadTelegram(db, [join(FIXTURES, "html-broken/ChatExport_2024-02-02")], { threads: 0 });
    expect(await count(db, "select count(*) from raw.telegram_messages")).toBe(2);
    const quarantined = await queryRows(db, "select source_table, _file, error, raw_line from raw.quarantine order by _file, _line");
    expect(quarantined.map((q) => [q.source_table, q._file, q.error])).toEqual([
      ["telegram_messages", "ChatExport_2024-02-02/messages.html", 'unparseable date title "31.02.2024 10:00:00 UTC+00:00"'],
      ["telegram_messages", "ChatExport_2024-02-02/messages.html", 'message element without a numeric id (id="messageX")'],
      ["telegram_messages", "ChatExport_2024-02-02/messages2.html", "joined message with no author before it in its page file"],
    ]);
    expect(quarantined[2]!.raw_line).toContain("joined, but nothing before it on this page");
  });

  it("lands JSON exports, single chat and whole account", async () => {
    const db = await tempDatabase();
    const { results } = await loadTelegram(
      db,
      [join(FIXTURES, "json-chat/ChatExport_2024-01-10"), join(FIXTURES, "json-account/DataExport_2024-01-10")],
      { threads: 0, timezone: "Europe/Moscow" },
    );
    expect(results.map((r) => [r.fileName, r.rowsLanded, r.rowsQuarantined])).toEqual([
      ["ChatExport_2024-01-10/result.json", 6, 1],
      ["DataExport_2024-01-10/result.json", 4, 0],
    ]);
    expect(await count(db, "select count(distinct payload->>'chat_id') from raw.telegram_messages")).toBe(4);
  });

  it("lands a generated export with page splits whole: every message once, every regular one with an author", async () => {
    const dir = join(tempDir(), "DataExport_gen");
    await generateTelegramExport(dir, { chats: 9, messagesPerChat: 1000, seed: 7 });
    const firstChat = readdirSync(join(dir, "chats/chat_1")).sort();
    expect(firstChat).toEqual(["messages.html", "messages2.html", "messages3.html"]);
    expect(readFileSync(join(dir, "chats/chat_1/messages3.html"), "utf8")).toMatch(/href="messages(2)?\.html#go_to_message\d+"/);
    let expected = 0;
    for (const chat of readdirSync(join(dir, "chats")))
      for (const page of readdirSync(join(dir, "chats", chat)))
        expected += readFileSync(join(dir, "chats", chat, page), "utf8").match(/class="message [^"]*" id="message\d+"/g)?.length ?? 0;

    const db = await tempDatabase();
    const { results } = await loadTelegram(db, [dir], { threads: 2 });
    expect(results.every((r) => r.status === "landed" && r.rowsQuarantined === 0)).toBe(true);
    expect(await count(db, "select count(*) from raw.telegram_messages")).toBe(expected);
    expect(
      await count(
        db,
        "select count(*) from (select distinct regexp_replace(_file, '/[^/]*$', ''), payload->>'message_id' from raw.telegram_messages)",
      ),
    ).toBe(expected);
    expect(
      await count(db, "select count(*) from raw.telegram_messages where (payload->>'type') = 'regular' and (payload->>'author') is null"),
    ).toBe(0);
    expect(await count(db, "select count(*) from raw.telegram_messages where (payload->>'forwarded_from') is not null")).toBeGreaterThan(0);
    expect(await count(db, "select count(*) from raw.telegram_messages where (payload->>'via_bot') is not null")).toBeGreaterThan(0);
    // Each page after the first opens a new block: its first message names its author itself.
    const page2 = readFileSync(join(dir, "chats/chat_1/messages2.html"), "utf8");
    expect(/class="message default clearfix( joined)?"/.exec(page2.slice(page2.indexOf("Previous messages")))).toMatchObject({
      1: undefined,
    });
  });
});

describe("duckform load telegram", () => {
  const run = promisify(execFile);
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run("node", [join(ROOT, "bin/duckform.js"), ...args], { cwd: ROOT });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it("prints a summary, lands a changed page as a new version, and skips the same pages in another folder", async () => {
    const project = tempDir();
    writeFileSync(join(project, "dataform.json"), JSON.stringify({ defaultDatabase: "duckform", defaultSchema: "df" }));
    const exportDir = join(tempDir(), "ChatExport_cli");
    cpSync(join(HTML_ACCOUNT, "chats/chat_3"), exportDir, { recursive: true });

    const first = await cli("load", "telegram", exportDir, "--project", project);
    expect(first).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        /^load telegram: files 1 landed, 0 skipped, 0 refused; 2 rows landed, 0 quarantined in [\d.]+ s from 1 chats\n$/,
      ),
    });
    // A re-export into another folder: the same bytes, so nothing lands twice.
    const reexport = join(tempDir(), "ChatExport_cli_again");
    cpSync(exportDir, reexport, { recursive: true });
    const again = await cli("load", "telegram", reexport, "--project", project);
    expect(again).toMatchObject({ code: 0, stdout: expect.stringContaining("files 0 landed, 1 skipped, 0 refused; 0 rows landed") });

    // A changed page is a newer snapshot of the chat: it lands beside the first, whose rows stay.
    const page = join(exportDir, "messages.html");
    writeFileSync(page, readFileSync(page, "utf8").replace("negative offset", "edited"));
    const changed = await cli("load", "telegram", exportDir, "--project", project);
    expect(changed).toMatchObject({ code: 0, stdout: expect.stringContaining("files 1 landed, 0 skipped, 0 refused; 2 rows landed") });
    const db = await Database.open(join(project, "duckform.duckdb"), "duckform", { readOnly: true });
    try {
      expect(await count(db, "select count(*) from raw.telegram_messages")).toBe(4);
    } finally {
      db.close();
    }

    const badZone = await cli("load", "telegram", exportDir, "--project", project, "--timezone", "Mars/Olympus");
    expect(badZone).toMatchObject({ code: 1, stderr: expect.stringContaining('duckform: unknown time zone "Mars/Olympus"') });
  }, 30_000);
});
