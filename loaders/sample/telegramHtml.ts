/**
 * The one writer of Telegram Desktop's HTML export markup (export_output_html.cpp) for the sample
 * and the benchmark corpus: a chat's entries in, its page files out, laid out the way
 * HtmlWriter::writeDialogSlice does. Blocks of joined messages, date separators with negative
 * ids, a page file per 1000 entries with pagination links, replies linking into earlier pages,
 * forwards with a nested from_name, `via @bot`, media, reactions. What the chats say is the
 * callers' (telegram.ts, telegramExport.ts); which corner cases occur is theirs too.
 */

export interface HtmlPerson {
  id: number;
  /** As the exporter writes it: "First Last", "First " when Last is empty, "Deleted Account". */
  name: string;
  initials: string;
}

export interface HtmlReaction {
  emoji: string;
  active: boolean;
  recent: HtmlPerson[];
  count: number | null;
}

export type HtmlEntry =
  /** `text` is markup; `fromId` is who did it, for the joining rule; `actor` their name, for JSON. */
  | { kind: "service"; id: number; date: number; text: string; fromId?: number; actor?: string }
  | {
      kind: "message";
      id: number;
      /** Unix seconds. */
      date: number;
      from: HtmlPerson;
      via?: string;
      forwarded?: { from: string; date: number };
      replyTo?: number;
      media?: string;
      /** Markup, as FormatText writes it; none for a media message without a caption. */
      text?: string;
      reactions?: HtmlReaction[];
    };

export interface HtmlChat {
  title: string;
  entries: HtmlEntry[];
}

const PAGE_ENTRIES = 1000;
const JOIN_WITHIN_SECONDS = 900;
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** The page files of one chat, in order: `messages.html`, `messages2.html`, … */
export function renderTelegramChat(chat: HtmlChat, options: { offsetMinutes: number }): string[] {
  const offset = options.offsetMinutes * 60;
  const pages: string[] = [];
  const lastIdPerPage: number[] = [];
  let out = new Markup();
  let previous: HtmlEntry | null = null;
  let dateId = 0;
  for (const [n, entry] of chat.entries.entries()) {
    if (n > 0 && n % PAGE_ENTRIES === 0) {
      out.raw(out.push("a", { class: "pagination block_link", href: pageName(pages.length + 1) }) + "Next messages" + out.pop());
      pages.push(out.close());
      lastIdPerPage.push(previous!.id);
      out = new Markup();
      previous = null;
    }
    if (out.empty()) opening(out, chat.title, pages.length);
    const local = entry.date + offset;
    if (!previous || localDay(previous.date + offset) !== localDay(local)) out.raw(serviceMessage(out, --dateId, dayText(local * 1000)));
    if (entry.kind === "service") out.raw(serviceMessage(out, entry.id, entry.text));
    else regularMessage(out, entry, previous, { offset, offsetMinutes: options.offsetMinutes, lastIdPerPage });
    previous = entry;
  }
  pages.push(out.close());
  return pages;
}

function regularMessage(
  out: Markup,
  m: Extract<HtmlEntry, { kind: "message" }>,
  previous: HtmlEntry | null,
  layout: { offset: number; offsetMinutes: number; lastIdPerPage: number[] },
): void {
  const local = m.date + layout.offset;
  const wrap = needsWrap(m, previous, layout.offset);
  out.raw(out.push("div", { class: wrap ? "message default clearfix" : "message default clearfix joined", id: `message${m.id}` }));
  if (wrap) out.raw(out.push("div", { class: "pull_left userpic_wrap" }) + userpic(out, m.from) + out.pop());
  out.raw(out.push("div", { class: "body" }));
  out.raw(
    out.push("div", { class: "pull_right date details", title: titleDate(local * 1000, layout.offsetMinutes) }) +
      timeText(local * 1000) +
      out.pop(),
  );
  if (wrap) out.raw(out.push("div", { class: "from_name" }) + escape(m.from.name) + (m.via ? ` via @${m.via}` : "") + out.pop());
  if (m.forwarded) {
    const before = previous?.kind === "message" ? previous.forwarded : undefined;
    const forwardedWrap =
      wrap || m.forwarded.from !== before?.from || Math.abs(m.forwarded.date - (before?.date ?? 0)) > JOIN_WITHIN_SECONDS;
    if (forwardedWrap) {
      const initials = m.forwarded.from.trim().slice(0, 1);
      out.raw(
        out.push("div", { class: "pull_left forwarded userpic_wrap" }) +
          userpic(out, { id: 1, name: m.forwarded.from, initials }) +
          out.pop(),
      );
    }
    out.raw(out.push("div", { class: "forwarded body" }));
    if (forwardedWrap) {
      const forwardedLocal = (m.forwarded.date + layout.offset) * 1000;
      out.raw(
        out.push("div", { class: "from_name" }) +
          escape(m.forwarded.from) +
          out.push("span", { class: "date details", title: titleDate(forwardedLocal, layout.offsetMinutes) }, { inline: true }) +
          " " +
          titleDate(forwardedLocal, null) +
          out.pop() +
          out.pop(),
      );
    }
  }
  if (m.replyTo !== undefined) {
    const target = m.replyTo;
    const page = layout.lastIdPerPage.findIndex((last) => target <= last);
    const link =
      page < 0
        ? `<a href="#go_to_message${target}" onclick="return GoToMessage(${target})">this message</a>`
        : `<a href="${pageName(page)}#go_to_message${target}">this message</a>`;
    out.raw(out.push("div", { class: "reply_to details" }) + "In reply to " + link + out.pop());
  }
  if (m.media) out.raw(mediaMarkup(out, m.media, m.id));
  if (m.text !== undefined) out.raw(out.push("div", { class: "text" }) + m.text + out.pop());
  if (m.forwarded) out.raw(out.pop());
  if (m.reactions) out.raw(reactions(out, m.reactions));
  out.raw(out.pop() + out.pop());
}

/** HtmlWriter::Wrap::messageNeedsWrap: when a message shows its userpic and from_name. */
function needsWrap(m: Extract<HtmlEntry, { kind: "message" }>, previous: HtmlEntry | null, offset: number): boolean {
  if (!previous || previous.kind === "service") return true;
  if (previous.from.id !== m.from.id || (previous.via ?? "") !== (m.via ?? "")) return true;
  if (localDay(previous.date + offset) !== localDay(m.date + offset)) return true;
  if ((previous.forwarded?.from ?? "") !== (m.forwarded?.from ?? "")) return true;
  return Math.abs(m.date - previous.date) > (m.forwarded ? 1 : JOIN_WITHIN_SECONDS);
}

function opening(out: Markup, title: string, pageIndex: number): void {
  let s = "<!DOCTYPE html>" + out.push("html") + out.push("head") + out.push("meta", { charset: "utf-8" }, { empty: true });
  s += out.push("title", {}, { inline: true }) + "Exported Data" + out.pop();
  s += out.push("meta", { name: "viewport", content: "width=device-width, initial-scale=1.0" }, { empty: true });
  s += out.push("link", { href: "../../css/style.css", rel: "stylesheet" }, { empty: true });
  s += out.push("script", { src: "../../js/script.js", type: "text/javascript" }) + out.pop() + out.pop();
  s += out.push("body", { onload: "CheckLocation();" }) + out.push("div", { class: "page_wrap" });
  s += out.push("div", { class: "page_header" });
  s += out.push("a", { class: "content block_link", href: "../../lists/chats.html", onclick: "return GoBack(this)" });
  s += out.push("div", { class: "text bold" }) + escape(title) + out.pop() + out.pop() + out.pop();
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

function userpic(out: Markup, person: HtmlPerson): string {
  return (
    out.push("div", { class: `userpic userpic${(person.id % 8) + 1}`, style: "width: 42px; height: 42px" }) +
    out.push("div", { class: "initials", style: "line-height: 42px" }) +
    escape(person.initials) +
    out.pop() +
    out.pop()
  );
}

function mediaMarkup(out: Markup, media: string, id: number): string {
  let s = out.push("div", { class: "media_wrap clearfix" });
  if (media === "photo" || media === "sticker") {
    const [wrap, href, thumb, size] =
      media === "photo"
        ? [
            "photo_wrap",
            `photos/photo_${id}@01-01-2024_12-00-00.jpg`,
            `photos/photo_${id}@01-01-2024_12-00-00_thumb.jpg`,
            "width: 260px; height: 195px",
          ]
        : ["sticker_wrap", `stickers/sticker_${id}.webp`, `stickers/sticker_${id}.webp_thumb.jpg`, "width: 256px; height: 256px"];
    s += out.push("a", { class: `${wrap} clearfix pull_left`, href });
    s += out.push("img", { class: media, src: thumb, style: size }, { empty: true });
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

function reactions(out: Markup, list: HtmlReaction[]): string {
  let s = out.push("span", { class: "reactions" });
  for (const reaction of list) {
    s += out.push("span", { class: reaction.active ? "reaction active" : "reaction" });
    s += out.push("span", { class: "emoji" }) + reaction.emoji + out.pop();
    s += out.push("span", { class: "userpics" });
    for (const person of reaction.recent) s += userpic(out, person);
    s += out.pop();
    if (reaction.count !== null) s += out.push("span", { class: "count" }) + String(reaction.count) + out.pop();
    s += out.pop();
  }
  return s + out.pop();
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

/** `messages.html`, `messages2.html`, …: the file of a chat's page `index` (from 0). */
export function pageName(index: number): string {
  return `messages${index > 0 ? index + 1 : ""}.html`;
}

/** `8 January 2024`, the text of a date separator; times are local, in ms since the epoch read as UTC. */
function dayText(localMs: number): string {
  const d = new Date(localMs);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** `09:05`, the time shown beside a message. */
function timeText(localMs: number): string {
  const d = new Date(localMs);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** FormatDateTime: `DD.MM.YYYY HH:MM:SS`, plus ` UTC+03:00` unless `offsetMinutes` is null. */
function titleDate(localMs: number, offsetMinutes: number | null): string {
  const d = new Date(localMs);
  const base = `${pad(d.getUTCDate())}.${pad(d.getUTCMonth() + 1)}.${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (offsetMinutes === null) return base;
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${base} UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

function localDay(localSeconds: number): number {
  return Math.floor(localSeconds / 86400);
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}
