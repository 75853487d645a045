import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createPrng, type Prng } from "../../../loaders/sample/prng.ts";
import { writeSampleTelegramChats } from "../../../loaders/sample/telegram.ts";
import { generateTelegramExport } from "../../../loaders/sample/telegramExport.ts";
import { parseHtmlPage } from "../../../loaders/telegram/html.ts";
import { parseHtmlPage as parseWithDom } from "../../../loaders/telegram/htmlDom.ts";
import { timezoneConverter } from "../../../loaders/telegram/timezone.ts";
import { tempDir } from "../../util/tmp.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures/telegram");
const options = { chatId: "c1", wallClock: timezoneConverter("Europe/Moscow") };

function htmlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? htmlFiles(path) : name.endsWith(".html") ? [path] : [];
  });
}

// Markup the exporter does not write, to hold the two parsers to the same reading of odd pages.
const ODDITIES = [
  "</div>",
  "<div>",
  '<div class="text">',
  "<!-- a comment -->",
  "<!--",
  "<br>",
  "</br>",
  "<p>",
  "</p>",
  "<script>var a = '<div>';</script>",
  "<style>.x{}</style>",
  "&amp;",
  "&lt;b&gt;",
  "&#10;",
  "&nbsp",
  "&unknown;",
  "&#x1F600;",
  "\n",
  "\n   ",
  "<![CDATA[x]]>",
  "<?xml x?>",
  "<!DOCTYPE html>",
  '<a href="#go_to_message7">',
  '<span class="date">12:00</span>',
  '<div class="message default clearfix" id="message-5">',
  '<div class="message service" id="message999">',
  '<div class="body">',
  '<div class="from_name">X&amp;Y <span>via @bot</span>',
  "<DIV>",
  "<table><tr><td>",
  "<li>",
];

function mutate(random: Prng, html: string): string {
  let out = html;
  for (let k = random.int(1, 4); k > 0; k--) {
    const at = random.int(0, out.length);
    const cut = random.chance(0.3) ? random.int(0, 40) : 0;
    out = out.slice(0, at) + random.pick(ODDITIES) + out.slice(at + cut);
  }
  return random.chance(0.1) ? out.slice(0, random.int(0, out.length)) : out;
}

describe("the streaming page parser against the DOM parser it replaces", () => {
  it("reads every fixture page the same", () => {
    for (const file of htmlFiles(FIXTURES)) {
      const html = readFileSync(file, "utf8");
      expect(parseHtmlPage(html, options), file).toEqual(parseWithDom(html, options));
    }
  });

  it("reads every page of varied generated exports and of the sample the same", async () => {
    const dir = tempDir("telegram-parity-");
    for (const seed of [1, 2, 3]) {
      await generateTelegramExport(join(dir, `export_${seed}`), { chats: seed === 1 ? 120 : 40, messagesPerChat: 25, seed });
    }
    writeSampleTelegramChats(join(dir, "sample"), { seed: 42, messagesPerChat: 120 });
    let pages = 0;
    for (const file of htmlFiles(dir)) {
      const html = readFileSync(file, "utf8");
      expect(parseHtmlPage(html, options), file).toEqual(parseWithDom(html, options));
      pages++;
    }
    expect(pages).toBeGreaterThan(200);
  }, 60_000);

  it("reads pages with broken and unusual markup the same", async () => {
    const dir = tempDir("telegram-parity-odd-");
    await generateTelegramExport(dir, { chats: 30, messagesPerChat: 15, seed: 7 });
    const sources = [...htmlFiles(dir), ...htmlFiles(FIXTURES)].map((file) => readFileSync(file, "utf8"));
    const random = createPrng(12);
    for (let i = 0; i < 3000; i++) {
      const html = mutate(random, random.pick(sources));
      expect(parseHtmlPage(html, options), html).toEqual(parseWithDom(html, options));
    }
  }, 120_000);
});
