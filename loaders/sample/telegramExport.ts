import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createPrng } from "./prng.ts";
import { dayText, escape, pageName, timeText, titleDate } from "./telegramMarkup.ts";

/**
 * Writes a deterministic Telegram Desktop whole-account HTML export under `dir`
 * (`export_results.html`, `chats/chat_NN/messages.html`, `messages2.html`, …) with the markup
 * and the layout rules of export_output_html.cpp: blocks of joined messages, date separators
 * with negative ids, a new page file every 1000 messages with pagination links, replies linking
 * into earlier pages, forwards with a nested from_name, `via @bot`, service messages, reactions,
 * media, entities, names with a trailing space, "Deleted Account", and dates titled with the
 * exporting machine's UTC offset. Message counts per chat vary around `messagesPerChat`; when
 * the export is large enough, its first chat is long enough to span three page files.
 */
export async function generateTelegramExport(
  dir: string,
  options: { chats: number; messagesPerChat: number; seed: number },
): Promise<void> {
  const random = createPrng(options.seed).next;
  const offsetMinutes = pick(random, [180, 0, -300, 330, 60]);
  const sizes = chatSizes(random, options.chats, options.messagesPerChat);
  const digits = String(Math.max(options.chats - 1, 0)).length;
  const entries: string[] = [];
  for (let index = 0; index < options.chats; index++) {
    const folder = `chat_${String(index + 1).padStart(digits, "0")}`;
    const chat = makeChat(random, index, options.seed);
    const pages = renderChat(random, chat, sizes[index]!, offsetMinutes);
    const chatDir = join(dir, "chats", folder);
    await mkdir(chatDir, { recursive: true });
    await Promise.all(pages.map((page, p) => writeFile(join(chatDir, pageName(p)), page)));
    entries.push(`<a href="chats/${folder}/messages.html">${escape(chat.title)}</a>`);
  }
  await writeFile(
    join(dir, "export_results.html"),
    `<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8"/>\n<title>Exported Data</title>\n</head>\n<body>\n${entries.join("\n")}\n</body>\n</html>\n`,
  );
}

const FILE_MESSAGES = 1000;
const JOIN_WITHIN_SECONDS = 900;
const BIG_CHAT = 2100;

// prettier-ignore
const FIRST = ["Anna", "Boris", "Chen", "Dana", "Elif", "Farid", "Gosha", "Hana", "Ivan", "Jules", "Kemal", "Lena", "Maya", "Nikos", "Olga", "Pavel", "Rosa", "Sven", "Tanya", "Yuki"];
const LAST = ["Ivanova", "Smith", "Müller", "O'Brien", "Kowalski", "Tanaka", "Петров", "García", "", ""];
const BOTS = ["gif", "vote", "like", "wiki"];
const WORDS =
  "the podcast episode was great we should listen again tomorrow credits limit download share play pause link meeting call today why not sure thanks agreed see you later new release bug fix".split(
    " ",
  );
const EMOJI = ["👍", "❤", "🔥", "😂", "🎉"];

interface Person {
  id: number;
  first: string;
  last: string;
}

interface Chat {
  title: string;
  isGroup: boolean;
  people: Person[];
}

function makeChat(random: () => number, index: number, seed: number): Chat {
  const isGroup = random() < 0.6;
  const count = isGroup ? 3 + Math.floor(random() * 6) : 2;
  const people: Person[] = [];
  for (let i = 0; i < count; i++) {
    const deleted = random() < 0.03;
    people.push({
      id: 1000 + ((seed * 7919 + index * 97 + i * 13) % 100000),
      first: deleted ? "" : pick(random, FIRST),
      last: deleted ? "" : pick(random, LAST),
    });
  }
  const title = isGroup ? `${pick(random, WORDS)} ${pick(random, WORDS)} group ${index + 1} ` : composeName(people[1]!);
  return { title, isGroup, people };
}

function chatSizes(random: () => number, chats: number, perChat: number): number[] {
  const total = chats * perChat;
  const big = chats >= 2 && total >= BIG_CHAT * 4;
  const mean = big ? (total - BIG_CHAT) / (chats - 1) : perChat;
  const sizes = Array.from({ length: chats }, () => Math.max(1, Math.round(-Math.log(1 - random()) * mean)));
  if (big) sizes[0] = BIG_CHAT;
  return sizes;
}

interface Info {
  id: number;
  service: boolean;
  fromId: number;
  via: string;
  date: number;
  forwardedFrom: string;
  forwardedDate: number;
}

/** The pages of one chat, laid out the way HtmlWriter::writeDialogSlice does. */
function renderChat(random: () => number, chat: Chat, count: number, offsetMinutes: number): string[] {
  const pages: string[] = [];
  const lastIdPerPage: number[] = [];
  let out = new Markup();
  let previous: Info | null = null;
  let dateId = 0;
  let id = 1 + Math.floor(random() * 50);
  let date = Date.UTC(2023, 0, 1) / 1000 + Math.floor(random() * 365 * 86400);
  const ids: number[] = [];

  for (let n = 0; n < count; n++) {
    if (n > 0 && n % FILE_MESSAGES === 0) {
      out.raw(out.push("a", { class: "pagination block_link", href: pageName(pages.length + 1) }) + "Next messages" + out.pop());
      pages.push(out.close());
      lastIdPerPage.push(previous!.id);
      out = new Markup();
      previous = null;
    }
    if (out.empty()) opening(out, chat, pages.length);

    if (n > 0) {
      id += random() < 0.1 ? 2 + Math.floor(random() * 5) : 1;
      date += random() < 0.05 ? 86400 + Math.floor(random() * 3 * 86400) : Math.floor(-Math.log(1 - random()) * 400);
    }
    const local = date + offsetMinutes * 60;
    if (!previous || localDay(previous.date + offsetMinutes * 60) !== localDay(local)) {
      out.raw(serviceMessage(out, --dateId, dayText(local * 1000)));
    }

    const author = pick(random, chat.people);
    if (chat.isGroup && random() < 0.04) {
      const other = pick(random, chat.people);
      const [who, whom] = [escape(composeName(author)), escape(composeName(other))];
      const text = pick(random, [
        `${who} invited ${whom}`,
        `${who} pinned &quot;${pick(random, WORDS)} &amp; more&quot;`,
        `${who} joined group by link from ${whom}`,
      ]);
      out.raw(serviceMessage(out, id, text));
      previous = { id, service: true, fromId: author.id, via: "", date, forwardedFrom: "", forwardedDate: 0 };
      ids.push(id);
      continue;
    }

    // Continue the previous sender's burst most of the time, so that joined blocks form.
    const sender: Person = previous && !previous.service && random() < 0.6 ? chat.people.find((p) => p.id === previous!.fromId)! : author;
    const forwarded = random() < 0.05 || (previous?.forwardedFrom !== "" && previous !== null && random() < 0.5);
    const forwardedFrom = forwarded
      ? previous?.forwardedFrom && random() < 0.7
        ? previous.forwardedFrom
        : `${pick(random, FIRST)} ${pick(random, LAST)}`
      : "";
    const forwardedDate = forwarded ? date - 3600 - Math.floor(random() * 86400) : 0;
    const via = forwarded ? "" : random() < 0.03 ? pick(random, BOTS) : previous?.via && random() < 0.5 ? previous.via : "";
    const info: Info = { id, service: false, fromId: sender.id, via, date, forwardedFrom, forwardedDate };
    const wrap = needsWrap(info, previous, offsetMinutes * 60);

    out.raw(out.push("div", { class: wrap ? "message default clearfix" : "message default clearfix joined", id: `message${id}` }));
    if (wrap) out.raw(out.push("div", { class: "pull_left userpic_wrap" }) + userpic(out, sender) + out.pop());
    out.raw(out.push("div", { class: "body" }));
    out.raw(
      out.push("div", { class: "pull_right date details", title: titleDate(local * 1000, offsetMinutes) }) +
        timeText(local * 1000) +
        out.pop(),
    );
    if (wrap) {
      out.raw(
        out.push("div", { class: "from_name" }) + escape(composeName(sender)) + (via && !forwarded ? ` via @${via}` : "") + out.pop(),
      );
    }
    if (forwarded) {
      const forwardedWrap =
        wrap || forwardedFrom !== previous?.forwardedFrom || Math.abs(forwardedDate - (previous?.forwardedDate ?? 0)) > JOIN_WITHIN_SECONDS;
      if (forwardedWrap) {
        out.raw(
          out.push("div", { class: "pull_left forwarded userpic_wrap" }) +
            userpic(out, { id: 1, first: forwardedFrom, last: "" }) +
            out.pop(),
        );
      }
      out.raw(out.push("div", { class: "forwarded body" }));
      if (forwardedWrap) {
        const fwdLocal = forwardedDate + offsetMinutes * 60;
        out.raw(
          out.push("div", { class: "from_name" }) +
            escape(forwardedFrom) +
            out.push("span", { class: "date details", title: titleDate(fwdLocal * 1000, offsetMinutes) }, { inline: true }) +
            " " +
            titleDate(fwdLocal * 1000, null) +
            out.pop() +
            out.pop(),
        );
      }
    }
    if (ids.length > 0 && random() < 0.1) {
      const target = ids[Math.floor(random() * ids.length)]!;
      const page = lastIdPerPage.findIndex((last) => target <= last);
      const link =
        page < 0
          ? `<a href="#go_to_message${target}" onclick="return GoToMessage(${target})">this message</a>`
          : `<a href="${pageName(page)}#go_to_message${target}">this message</a>`;
      out.raw(out.push("div", { class: "reply_to details" }) + "In reply to " + link + out.pop());
    }
    const media = random() < 0.1 ? pick(random, ["photo", "sticker", "voice", "file", "video_message"]) : "";
    if (media) out.raw(mediaMarkup(out, media, id));
    if (!media || random() < 0.5) out.raw(out.push("div", { class: "text" }) + messageText(random) + out.pop());
    if (forwarded) out.raw(out.pop());
    if (random() < 0.08) out.raw(reactions(out, random, chat));
    out.raw(out.pop() + out.pop());
    previous = info;
    ids.push(id);
  }
  pages.push(out.close());
  return pages;
}

/** HtmlWriter::Wrap::messageNeedsWrap: when a message shows its userpic and from_name. */
function needsWrap(message: Info, previous: Info | null, offsetSeconds: number): boolean {
  if (!previous || previous.service) return true;
  if (previous.fromId !== message.fromId || previous.via !== message.via) return true;
  if (localDay(previous.date + offsetSeconds) !== localDay(message.date + offsetSeconds)) return true;
  if (previous.forwardedFrom !== message.forwardedFrom) return true;
  return Math.abs(message.date - previous.date) > (message.forwardedFrom ? 1 : JOIN_WITHIN_SECONDS);
}

function opening(out: Markup, chat: Chat, pageIndex: number): void {
  let s = "<!DOCTYPE html>" + out.push("html") + out.push("head") + out.push("meta", { charset: "utf-8" }, { empty: true });
  s += out.push("title", {}, { inline: true }) + "Exported Data" + out.pop();
  s += out.push("meta", { name: "viewport", content: "width=device-width, initial-scale=1.0" }, { empty: true });
  s += out.push("link", { href: "../../css/style.css", rel: "stylesheet" }, { empty: true });
  s += out.push("script", { src: "../../js/script.js", type: "text/javascript" }) + out.pop() + out.pop();
  s += out.push("body", { onload: "CheckLocation();" }) + out.push("div", { class: "page_wrap" });
  s += out.push("div", { class: "page_header" });
  s += out.push("a", { class: "content block_link", href: "../../lists/chats.html", onclick: "return GoBack(this)" });
  s += out.push("div", { class: "text bold" }) + escape(chat.title) + out.pop() + out.pop() + out.pop();
  s += out.push("div", { class: "page_body chat_page" }) + out.push("div", { class: "history" });
  if (pageIndex > 0) {
    s += out.push("a", { class: "pagination block_link", href: pageName(pageIndex - 1) }) + "Previous messages" + out.pop();
  }
  out.raw(s);
}

function serviceMessage(out: Markup, id: number, text: string): string {
  return (
    out.push("div", { class: "message service", id: `message${id}` }) +
    out.push("div", { class: "body details" }) +
    text +
    out.pop() +
    out.pop()
  );
}

function userpic(out: Markup, person: Person): string {
  const initials = person.first.trim().slice(0, 1) + person.last.trim().slice(0, 1) || "";
  return (
    out.push("div", { class: `userpic userpic${(person.id % 8) + 1}`, style: "width: 42px; height: 42px" }) +
    out.push("div", { class: "initials", style: "line-height: 42px" }) +
    escape(initials) +
    out.pop() +
    out.pop()
  );
}

function mediaMarkup(out: Markup, media: string, id: number): string {
  let s = out.push("div", { class: "media_wrap clearfix" });
  if (media === "photo") {
    s += out.push("a", { class: "photo_wrap clearfix pull_left", href: `photos/photo_${id}@01-01-2024_12-00-00.jpg` });
    s += out.push(
      "img",
      { class: "photo", src: `photos/photo_${id}@01-01-2024_12-00-00_thumb.jpg`, style: "width: 260px; height: 195px" },
      { empty: true },
    );
    s += out.pop();
  } else if (media === "sticker") {
    s += out.push("a", { class: "sticker_wrap clearfix pull_left", href: `stickers/sticker_${id}.webp` });
    s += out.push(
      "img",
      { class: "sticker", src: `stickers/sticker_${id}.webp_thumb.jpg`, style: "width: 256px; height: 256px" },
      { empty: true },
    );
    s += out.pop();
  } else {
    const [cls, title, status] =
      media === "voice"
        ? ["media_voice_message", "Voice message", "00:07"]
        : media === "video_message"
          ? ["media_video", "Video message", "00:12"]
          : ["media_file", `report_${id}.pdf`, "120.5 KB"];
    s += out.push("a", { class: `media clearfix pull_left block_link ${cls}`, href: `files/${id}` });
    s += out.push("div", { class: "fill pull_left" }) + out.pop();
    s += out.push("div", { class: "body" });
    s += out.push("div", { class: "title bold" }) + escape(title) + out.pop();
    s += out.push("div", { class: "status details" }) + status + out.pop();
    s += out.pop() + out.pop();
  }
  return s + out.pop();
}

function reactions(out: Markup, random: () => number, chat: Chat): string {
  let s = out.push("span", { class: "reactions" });
  const kinds = 1 + Math.floor(random() * 2);
  for (let k = 0; k < kinds; k++) {
    s += out.push("span", { class: random() < 0.3 ? "reaction active" : "reaction" });
    s += out.push("span", { class: "emoji" }) + pick(random, EMOJI) + out.pop();
    const recent = 1 + Math.floor(random() * Math.min(3, chat.people.length));
    s += out.push("span", { class: "userpics" });
    for (let r = 0; r < recent; r++) s += userpic(out, chat.people[r]!);
    s += out.pop();
    if (random() < 0.3) s += out.push("span", { class: "count" }) + String(recent + 5) + out.pop();
    s += out.pop();
  }
  return s + out.pop();
}

/** Message text as FormatText writes it: entities as tags, newlines as <br>, specials escaped. */
function messageText(random: () => number): string {
  const words = 3 + Math.floor(random() * 14);
  const parts: string[] = [];
  for (let w = 0; w < words; w++) {
    const word = pick(random, WORDS);
    const r = random();
    if (r < 0.03) parts.push(`<strong>${word}</strong>`);
    else if (r < 0.05) parts.push(`<em>${word}</em>`);
    else if (r < 0.06) parts.push(`<a href="https://example.com/${word}">https://example.com/${word}</a>`);
    else if (r < 0.07) parts.push(`<a href="https://t.me/${word}">@${word}</a>`);
    else if (r < 0.08) parts.push("&amp;");
    else if (r < 0.09) parts.push("&quot;quoted&quot;");
    else if (r < 0.1) parts.push("<br>");
    else parts.push(word);
  }
  return parts.join(" ");
}

/** A minimal HtmlContext: block tags on their own lines, indented by depth, attributes sorted by name. */
class Markup {
  private readonly stack: { name: string; block: boolean }[] = [];
  private readonly chunks: string[] = [];

  push(name: string, attributes: Record<string, string> = {}, flags: { inline?: boolean; empty?: boolean } = {}): string {
    const block = !flags.inline;
    const attrs = Object.keys(attributes)
      .sort()
      .map((k) => ` ${k}="${escape(attributes[k]!)}"`)
      .join("");
    const result = (block ? "\n" + this.indent() : "") + `<${name}${attrs}${flags.empty ? "/" : ""}>` + (block ? "\n" : "");
    if (!flags.empty) this.stack.push({ name, block });
    return result;
  }

  pop(): string {
    const tag = this.stack.pop()!;
    return (tag.block ? "\n" + this.indent() : "") + `</${tag.name}>` + (tag.block ? "\n" : "");
  }

  raw(text: string): void {
    this.chunks.push(text);
  }

  empty(): boolean {
    return this.chunks.length === 0;
  }

  close(): string {
    while (this.stack.length > 0) this.chunks.push(this.pop());
    return this.chunks.join("");
  }

  private indent(): string {
    return " ".repeat(this.stack.length);
  }
}

function composeName(person: Person): string {
  return !person.first && !person.last ? "Deleted Account" : `${person.first} ${person.last}`;
}

function localDay(localSeconds: number): number {
  return Math.floor(localSeconds / 86400);
}

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}
