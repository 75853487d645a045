import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseHtmlPage } from "../../../loaders/telegram/html.ts";
import type { TelegramMessage } from "../../../loaders/telegram/message.ts";
import { timezoneConverter } from "../../../loaders/telegram/timezone.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures/telegram");
const ACCOUNT = join(FIXTURES, "html-account/DataExport_2024-01-07/chats");

function parse(path: string, timezone?: string) {
  const page = parseHtmlPage(readFileSync(path, "utf8"), { chatId: "c1", wallClock: timezoneConverter(timezone) });
  const messages = page.records.filter((r) => r.json).map((r) => JSON.parse(r.json!) as TelegramMessage);
  const quarantined = page.records.filter((r) => !r.json);
  return { page, messages, quarantined, byId: new Map(messages.map((m) => [m.message_id, m])) };
}

describe("parseHtmlPage", () => {
  const first = parse(join(ACCOUNT, "chat_1/messages.html"));
  const second = parse(join(ACCOUNT, "chat_1/messages2.html"));

  it("reads every message of a page and skips the date separators, whose ids are negative", () => {
    expect(first.messages.map((m) => m.message_id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(second.messages.map((m) => m.message_id)).toEqual([9, 10, 11, 12]);
    expect(first.messages.some((m) => m.text.includes("January"))).toBe(false);
    expect(first.quarantined).toEqual([]);
  });

  it("lands service messages as type service with their text and no author or date", () => {
    expect(first.byId.get(1)).toMatchObject({
      type: "service",
      author: null,
      sent_at: null,
      text: 'Anna Ivanova created group "Podcast Club"',
    });
    expect(second.byId.get(11)).toMatchObject({ type: "service", text: 'Chen Li pinned "this message"' });
  });

  it("carries the author of a block over to its joined messages", () => {
    expect(first.byId.get(3)).toMatchObject({ author: "Anna Ivanova", type: "regular" });
    expect(first.byId.get(5)).toMatchObject({ author: "Boris", via_bot: "gif" });
    expect(second.byId.get(10)).toMatchObject({ author: "Chen Li" });
  });

  it("starts a new block on every page file: the first message of page 2 names its own author", () => {
    // Page 1 ends with Chen Li's forwards; page 2 opens with a separator and a full message.
    expect(second.byId.get(9)).toMatchObject({ author: "Chen Li", forwarded_from: null });
  });

  it("trims the trailing space of a name without a last name and splits off via @bot", () => {
    expect(first.byId.get(4)).toMatchObject({ author: "Boris", via_bot: "gif", media_type: "animation" });
    expect(first.page.chatName).toBe("Podcast Club");
  });

  it("keeps Deleted Account as the author", () => {
    expect(first.byId.get(6)!.author).toBe("Deleted Account");
  });

  it("converts the date title with its UTC offset to UTC", () => {
    expect(first.byId.get(2)!.sent_at).toBe("2024-01-05T07:00:00.000Z");
    expect(second.byId.get(12)!.sent_at).toBe("2024-01-06T20:30:00.000Z");
  });

  it("decodes entities, keeps the text of links and formatting, and turns <br> into a newline", () => {
    expect(first.byId.get(2)!.text).toBe("Hello & welcome\nsecond line");
    expect(first.byId.get(3)!.text).toBe(`Bold and a link, <tag> "quoted" it's @boris`);
  });

  it("reads replies on the same page and into earlier page files, and none for another chat", () => {
    expect(first.byId.get(6)!.reply_to_message_id).toBe(2);
    expect(second.byId.get(9)!.reply_to_message_id).toBe(3);
    expect(second.byId.get(12)!.reply_to_message_id).toBe(null);
  });

  it("takes a forward's original author from the nested from_name, leaving out its date", () => {
    expect(first.byId.get(7)).toMatchObject({ author: "Chen Li", forwarded_from: "Original Author", text: "forwarded text" });
    // A joined forward from the same source shows no nested from_name: it carries over too.
    expect(first.byId.get(8)).toMatchObject({ author: "Chen Li", forwarded_from: "Original Author", text: "second forwarded" });
  });

  it("reads reactions with their count, from the count or from the reactors shown", () => {
    expect(first.byId.get(6)!.reactions).toEqual([
      { type: "emoji", emoji: "👍", count: 2 },
      { type: "emoji", emoji: "❤", count: 5 },
    ]);
    expect(first.byId.get(2)!.reactions).toBe(null);
  });

  it("names the media type the way the JSON export does", () => {
    expect(second.byId.get(9)!.media_type).toBe("voice_message");
    expect(first.byId.get(2)!.media_type).toBe(null);
  });

  it("tells a sticker or round video whose file was not downloaded by the generic block's title", () => {
    const generic = (id: number, cls: string, title: string) => `
     <div class="message default clearfix" id="message${id}">
      <div class="body">
       <div class="pull_right date details" title="05.01.2024 10:00:00 UTC+00:00">
10:00
       </div>
       <div class="from_name">
Anna Ivanova
       </div>
       <div class="media_wrap clearfix">
        <div class="media clearfix pull_left ${cls}">
         <div class="fill pull_left">
         </div>
         <div class="body">
          <div class="title bold">
${title}
          </div>
         </div>
        </div>
       </div>
      </div>
     </div>`;
    const html = `<div class="history">${generic(1, "media_photo", "Sticker")}${generic(2, "media_video", "Video message")}${generic(3, "media_photo", "Photo")}</div>`;
    const page = parseHtmlPage(html, { chatId: "c1", wallClock: timezoneConverter() });
    expect(page.records.map((r) => JSON.parse(r.json!).media_type)).toEqual(["sticker", "video_message", "photo"]);
  });

  it("reads markup the exporter does not write as a DOM of the page would: entities, comments, scripts, <br> and an unfinished tag", () => {
    const message = (id: number, from: string, text: string, extra = "") => `
     <div class="message default clearfix" id="message${id}">
      <div class="body">
       <div class="pull_right date details" title="05.01.2024 10:00:00 UTC&#43;00:00">
10:00
       </div>
       <div class="from_name">
${from}
       </div>${extra}
       <div class="text">
${text}
       </div>
      </div>
     </div>`;
    const media = `
       <div class="media_wrap clearfix"><!-- c --><div class="media clearfix pull_left media_photo"><div class="body"><div class="title bold">
Sticker
</div></div></div></div>
       <span class="reactions"><span class="reaction"><span class="emoji"><a href="#">x</a></span><span class="userpics"><div></div><i></i><script></script></span></span></span>`;
    const html =
      `<div class="page_header"><div class="text bold">\n Caf&eacute; &amp; Co<!-- x -->\n</div></div><div class="history">` +
      message(
        1,
        'Anna<br>Ivanova <span class="date">05.01</span> via @bot',
        "a &lt;b&gt; &#10;c &nbsp;d<!-- hidden --><script>var x = 1;</script>\n<strong>bold\n </strong>",
      ) +
      message(2, "Boris &amp; Co", "two<br><br>lines", media) +
      `\n     <div class="message default clearfix" id="message3"><div class="body"><div class="pull_right date details" title="05.01.2024 10:00:00"></div><div class="from_name">Cut`;
    const page = parseHtmlPage(html, { chatId: "c1", wallClock: timezoneConverter() });
    expect(page.chatName).toBe("Café & Co");
    const messages = page.records.map((r) => JSON.parse(r.json!) as TelegramMessage);
    expect(messages.map((m) => m.message_id)).toEqual([1, 2, 3]);
    // A <br> in a name is nothing, in a text a newline; an entity's newline is kept, the layout's is not.
    expect(messages[0]).toMatchObject({ author: "AnnaIvanova", via_bot: "bot", text: "a <b> \nc \u00a0d\nbold" });
    expect(messages[1]).toMatchObject({ author: "Boris & Co", text: "two\n\nlines", media_type: "sticker" });
    expect(messages[1]!.reactions).toEqual([{ type: "custom_emoji", emoji: "x", count: 2 }]);
    // A page cut off inside a start tag: what came before it still reads.
    expect(messages[2]).toMatchObject({ author: "Cut", text: "", sent_at: "2024-01-05T10:00:00.000Z" });
    expect(page.records.map((r) => r.line)).toEqual([4, 19, 36]);
  });

  it("quarantines a page file that is not a messages page, rather than landing nothing", () => {
    for (const text of ["", "not html at all: a < b, c > d", "<html><body><p>hello</p></body></html>"]) {
      const page = parseHtmlPage(text, { chatId: "c1", wallClock: timezoneConverter() });
      expect(page.records).toEqual([{ line: 1, raw: text, error: "page has no div.history: not a Telegram Desktop messages page" }]);
    }
  });

  it("records each message's source line", () => {
    const line = first.page.records.find((r) => r.json && JSON.parse(r.json).message_id === 2)!.line;
    expect(readFileSync(join(ACCOUNT, "chat_1/messages.html"), "utf8").split("\n")[line - 1]).toContain('id="message2"');
  });

  it("reads titles without an offset in the --timezone zone, and GMT or negative offsets as written", () => {
    expect(parse(join(ACCOUNT, "chat_2/messages.html")).byId.get(100)!.sent_at).toBe("2024-01-05T10:00:00.000Z");
    expect(parse(join(ACCOUNT, "chat_2/messages.html"), "Europe/Moscow").byId.get(100)!.sent_at).toBe("2024-01-05T07:00:00.000Z");
    const gmt = parse(join(ACCOUNT, "chat_3/messages.html"), "Europe/Moscow");
    expect(gmt.byId.get(7)!.sent_at).toBe("2024-01-05T10:00:00.000Z");
    expect(gmt.byId.get(8)!.sent_at).toBe("2024-01-05T15:30:00.000Z");
  });

  it("quarantines what it cannot make canonical, with the message's HTML and a reason", () => {
    const broken = join(FIXTURES, "html-broken/ChatExport_2024-02-02");
    const one = parse(join(broken, "messages.html"));
    expect(one.messages.map((m) => m.message_id)).toEqual([1]);
    expect(one.quarantined.map((r) => r.error)).toEqual([
      'unparseable date title "31.02.2024 10:00:00 UTC+00:00"',
      'message element without a numeric id (id="messageX")',
    ]);
    expect(one.quarantined[0]!.raw).toMatch(/^<div class="message default clearfix" id="message2">[\s\S]*no such day[\s\S]*<\/div>$/);
    // A page never opens with a joined message; if one does, no author is borrowed from another file.
    const two = parse(join(broken, "messages2.html"));
    expect(two.quarantined.map((r) => r.error)).toEqual(["joined message with no author before it in its page file"]);
    expect(two.messages).toMatchObject([{ message_id: 5, author: "Farid Aziz" }]);
  });

  describe("a page whose markup is broken", () => {
    const page = readFileSync(join(ACCOUNT, "chat_1/messages2.html"), "utf8");
    const ids = (text: string) => [...text.matchAll(/ id="message(\d+)"/g)].map((m) => Number(m[1]));
    const parseText = (html: string) => parseHtmlPage(html, { chatId: "c1", wallClock: timezoneConverter(undefined) }).records;

    it("finds every message under one unclosed <div>, quarantining the one whose markup swallows the next, by id", () => {
      // message9's reply_to div loses its closing tag, so messages 10 to 12 nest inside message 9.
      const broken = page.replace(/(In reply to <a href="messages\.html#go_to_message3">this message<\/a>\n)\s*<\/div>/, "$1");
      expect(broken).not.toBe(page);
      const records = parseText(broken);
      expect(records.map((r) => (r.json ? (JSON.parse(r.json) as TelegramMessage).message_id : r.error))).toEqual([
        "message 9: its markup is not closed before message element message10 begins",
        "joined message with no author before it in its page file",
        11,
        12,
      ]);
      expect(records).toHaveLength(ids(page).length);
    });

    it("keeps a message the parser never sees as an element as the text around its id", () => {
      // An unterminated comment swallows message 10 and everything after it.
      const broken = page.replace(
        '<div class="message default clearfix joined" id="message10">',
        '<!-- <div class="message default clearfix joined" id="message10">',
      );
      const records = parseText(broken);
      expect(records.filter((r) => r.json).map((r) => (JSON.parse(r.json!) as TelegramMessage).message_id)).toEqual([9]);
      const lost = records.filter((r) => !r.json);
      expect(lost.map((r) => r.error)).toEqual(
        [10, 11, 12].map((id) => `message ${id}: the page's markup around it is broken, so it could not be read as a message element`),
      );
      expect(lost[0]!.raw).toContain('id="message10"');
      expect(records).toHaveLength(ids(page).length);
    });
  });
});
