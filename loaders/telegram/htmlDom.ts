import { load } from "cheerio/slim";
import type { AnyNode, Element } from "domhandler";
import type { SourceRecord } from "../land.ts";
import { parseTitleDate } from "./date.ts";
import { childWithClass, childWithClasses, findTag, hasClass, textOf } from "./dom.ts";
import { messageJson, type TelegramReaction } from "./message.ts";
import type { WallClockToUtc } from "./timezone.ts";

export interface HtmlPageOptions {
  chatId: string;
  wallClock: WallClockToUtc;
}

export interface HtmlPage {
  /** The chat's name from the page header, trimmed; null if the page has none. */
  chatName: string | null;
  records: SourceRecord[];
}

// htmlparser2 rather than parse5: the exporter writes well-formed markup, and this is several
// times faster. It also writes every tag and attribute name in lower case, so the parser need
// not fold them (15% of the parse). Start and end indices give each message's source line and raw HTML.
const PARSE_OPTIONS = {
  xml: {
    xmlMode: false,
    decodeEntities: true,
    lowerCaseTags: false,
    lowerCaseAttributeNames: false,
    withStartIndices: true,
    withEndIndices: true,
  },
};

// One cheerio instance per thread, whose $(markup) parses each page: a load() per page would
// build a new Cheerio subclass every time, which took longer than the parse itself.
const $ = load("", PARSE_OPTIONS, false);

// How much of an unreadable page the quarantine keeps; the file itself stays on disk.
const MAX_RAW = 1_000_000;

/** What the exporter shows once per block of joined messages and leaves out of the rest. */
interface BlockHead {
  author: string;
  viaBot: string | null;
  forwardedFrom: string | null;
}

class Unparseable extends Error {}

/**
 * Parses one page file of a Telegram Desktop HTML export (`messages.html`, `messages2.html`, …)
 * into one record per message, in the shape of export_output_html.cpp:
 * - `div.history` holds `div.message` elements and the pagination links;
 * - a negative id (`message-1`) is a date separator or "No exported messages", not a message;
 * - `message service` has only a text (`body details`) and no date;
 * - `message default clearfix joined` leaves out `from_name` (and a forward's `from_name`): the
 *   author carries over from the message before. The exporter starts a new block on every page
 *   file, so a joined message with no author before it on its own page cannot be attributed and
 *   goes to the quarantine rather than borrowing an author from another file.
 * Pure: no I/O, the same input always gives the same records.
 */
export function parseHtmlPage(html: string, options: HtmlPageOptions): HtmlPage {
  // The page is a fixed skeleton, html > body > div.page_wrap > (div.page_header, div.page_body >
  // div.history); walking to the two elements needed is much cheaper than running selectors.
  const root = { children: isHtml(html) ? $(html).toArray() : [] };
  const header = findTag(root, (el) => hasClass(el, "page_header"), "history");
  const title = header && findTag(header, (el) => hasClass(el, "text") && hasClass(el, "bold"));
  const chatName = title ? textOf(title).trim() || null : null;
  const history = findTag(root, (el) => hasClass(el, "history"), "page_header");
  const records: SourceRecord[] = [];
  if (!history) {
    // A page file with no history is not what the exporter writes: keep it in the quarantine.
    records.push({ line: 1, raw: html.slice(0, MAX_RAW), error: "page has no div.history: not a Telegram Desktop messages page" });
    return { chatName, records };
  }

  const lines = lineCounter(html);
  const idsInText = messageIdsInText(html);
  const nodes = messageElements(history, idsInText.size);
  const seen = new Set<number>();
  let block: BlockHead | null = null;
  for (const [i, node] of nodes.entries()) {
    const line = lines(node.startIndex ?? 0);
    const next = nodes[i + 1];
    // Document order: a message that starts before this one ends sits inside it, so this one's
    // markup was never closed and its content cannot be told from what follows.
    const broken = next !== undefined && (next.startIndex ?? 0) <= (node.endIndex ?? 0);
    const raw = () => html.slice(node.startIndex ?? 0, broken ? (next.startIndex ?? undefined) : (node.endIndex ?? html.length - 1) + 1);
    const idMatch = /^message(-?\d+)$/.exec(node.attribs.id ?? "");
    if (!idMatch) {
      records.push({ line, raw: raw(), error: `message element without a numeric id (id="${node.attribs.id ?? ""}")` });
      continue;
    }
    const messageId = Number(idMatch[1]);
    if (messageId < 0) continue;
    seen.add(messageId);
    try {
      if (broken)
        throw new Unparseable(`message ${messageId}: its markup is not closed before message element ${next.attribs.id ?? "?"} begins`);
      if (hasClass(node, "service")) {
        block = null;
        const body = childWithClass(node, "body");
        records.push({
          line,
          json: messageJson({
            source: "telegram",
            chat_id: options.chatId,
            chat_name: chatName,
            message_id: messageId,
            type: "service",
            author: null,
            author_id: null,
            via_bot: null,
            sent_at: null,
            text: body ? textOf(body) : "",
            reply_to_message_id: null,
            forwarded_from: null,
            media_type: null,
            reactions: null,
          }),
        });
        continue;
      }
      if (!hasClass(node, "default")) throw new Unparseable(`message of unknown kind (class="${node.attribs.class ?? ""}")`);
      const { json, head } = regularMessage(node, messageId, block, chatName, options);
      block = head;
      records.push({ line, json });
    } catch (error) {
      if (!(error instanceof Unparseable)) throw error;
      // The block's head is unknown after a message we could not read; what follows it
      // (joined messages) is quarantined too rather than attributed to the wrong author.
      block = null;
      records.push({ line, raw: raw(), error: error.message });
    }
  }
  // Every message the text holds is landed or quarantined: one the parser never saw as an
  // element (swallowed by broken markup) is kept as the text around its id.
  const lost = [...idsInText].filter(([id]) => !seen.has(id));
  if (lost.length > 0) {
    const lostLines = lineCounter(html);
    for (const [id, at] of lost) {
      records.push({
        line: lostLines(at),
        raw: html.slice(at, at + 4096),
        error: `message ${id}: the page's markup around it is broken, so it could not be read as a message element`,
      });
    }
    records.sort((a, b) => a.line - b.line);
  }
  return { chatName, records };
}

/**
 * Where each message id of a page is written (`id="message123"`), as an index into the text:
 * the exporter escapes quotes in message text, so only message elements write this.
 */
function messageIdsInText(html: string): Map<number, number> {
  const ids = new Map<number, number>();
  for (const match of html.matchAll(/ id="message(\d+)"/g)) if (!ids.has(Number(match[1]))) ids.set(Number(match[1]), match.index);
  return ids;
}

/**
 * The page's message elements in document order. The exporter writes them as children of
 * div.history, and they are taken from there when that accounts for every id in the text;
 * otherwise broken markup has nested some inside others, and the whole history is searched
 * (without recursion: an unclosed div per message nests thousands deep).
 */
function messageElements(history: Element, idsInText: number): Element[] {
  const isMessage = (node: AnyNode): node is Element => node.type === "tag" && hasClass(node, "message");
  const direct = history.children.filter(isMessage);
  if (direct.filter((n) => !/^message-/.test(n.attribs.id ?? "")).length === idsInText) return direct;
  const found: Element[] = [];
  const stack: AnyNode[] = [...history.children].reverse();
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.type !== "tag") continue;
    if (isMessage(node)) found.push(node);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
  return found;
}

function regularMessage(
  node: Element,
  messageId: number,
  previous: BlockHead | null,
  chatName: string | null,
  options: HtmlPageOptions,
): { json: string; head: BlockHead } {
  const body = childWithClass(node, "body");
  if (!body) throw new Unparseable("message without a body");
  const dateEl = childWithClass(body, "date");
  const title = dateEl?.attribs.title;
  if (!title) throw new Unparseable("message without a date title");
  const sentAt = parseTitleDate(title, options.wallClock);
  if (!sentAt) throw new Unparseable(`unparseable date title "${title}"`);

  let author: string;
  let viaBot: string | null;
  const fromName = childWithClass(body, "from_name");
  if (hasClass(node, "joined") && !fromName) {
    if (!previous) throw new Unparseable("joined message with no author before it in its page file");
    ({ author, viaBot } = previous);
  } else {
    if (!fromName) throw new Unparseable("message without from_name");
    ({ name: author, viaBot } = nameOf(fromName));
  }

  // A forward nests the original author, the reply, media and text in `forwarded body`.
  // `forwarded body`, not the `pull_left forwarded userpic_wrap` that precedes it.
  const forwarded = childWithClasses(body, "forwarded", "body");
  let forwardedFrom: string | null = null;
  if (forwarded) {
    const original = childWithClass(forwarded, "from_name");
    if (original) {
      const parsed = nameOf(original);
      forwardedFrom = parsed.name;
      viaBot = viaBot ?? parsed.viaBot;
    } else if (previous?.forwardedFrom) {
      forwardedFrom = previous.forwardedFrom;
      viaBot = viaBot ?? previous.viaBot;
    } else {
      throw new Unparseable("forwarded message with no original author before it in its page file");
    }
  }
  const content = forwarded ?? body;

  let replyTo: number | null = null;
  const reply = childWithClass(content, "reply_to");
  if (reply) {
    // `messages2.html#go_to_message123` when the original is on an earlier page, `#go_to_message123` on this one;
    // "In reply to a message in another chat" has no link.
    const link = findTag(reply, (el) => el.name === "a" && /go_to_message\d+/.test(el.attribs.href ?? ""));
    if (link) replyTo = Number(/go_to_message(\d+)/.exec(link.attribs.href!)![1]);
  }

  const text = childWithClass(content, "text");
  const json = messageJson({
    source: "telegram",
    chat_id: options.chatId,
    chat_name: chatName,
    message_id: messageId,
    type: "regular",
    author,
    author_id: null,
    via_bot: viaBot,
    sent_at: sentAt,
    text: text ? textOf(text) : "",
    reply_to_message_id: replyTo,
    forwarded_from: forwardedFrom,
    media_type: mediaTypeOf(childWithClass(content, "media_wrap")),
    reactions: reactionsOf(childWithClass(body, "reactions")),
  });
  return { json, head: { author, viaBot, forwardedFrom } };
}

/**
 * A `from_name`: `First Last`, or `First ` with a trailing space when the last name is empty,
 * then ` via @bot`; a forward's also holds its date in a `span.date`. "Deleted Account" is kept
 * as the author's name: it is what the exporter knows.
 */
function nameOf(el: Element): { name: string; viaBot: string | null } {
  let text = "";
  for (const child of el.children) {
    if (child.type === "text") text += child.data;
    else if (child.type === "tag" && !hasClass(child, "date")) text += textOf(child);
  }
  text = text.replace(/\s+/g, " ").trim();
  const via = / via @([A-Za-z0-9_]+)$/.exec(text);
  return via ? { name: text.slice(0, via.index).trim(), viaBot: via[1]! } : { name: text, viaBot: null };
}

// Class names from pushMedia / prepareMediaData, mapped to the JSON exporter's media_type words.
const MEDIA_CLASSES: [string, string][] = [
  ["photo_wrap", "photo"],
  ["sticker_wrap", "sticker"],
  ["animated_wrap", "animation"],
  ["video_file_wrap", "video_file"],
  ["media_voice_message", "voice_message"],
  ["media_audio_file", "audio_file"],
  ["media_file", "file"],
  ["media_contact", "contact"],
  ["media_live_location", "live_location"],
  ["media_location", "location"],
  ["media_venue", "venue"],
  ["media_game", "game"],
  ["media_invoice", "invoice"],
  ["media_poll", "poll"],
  ["media_call", "phone_call"],
  ["media_giveaway", "giveaway"],
];

const GENERIC_TITLES: Record<string, string> = { Sticker: "sticker", Animation: "animation", "Video message": "video_message" };

function mediaTypeOf(wrap: Element | undefined): string | null {
  if (!wrap) return null;
  const media = wrap.children.find((c): c is Element => c.type === "tag");
  if (!media) return null;
  // When the file was not downloaded, a sticker, an animation or a round video falls back to a
  // generic block classed as photo or video; only its title tells which.
  if (hasClass(media, "media_photo") || hasClass(media, "media_video")) {
    const title = findTag(media, (el) => hasClass(el, "title"));
    const fallback = title ? GENERIC_TITLES[textOf(title).trim()] : undefined;
    if (fallback) return fallback;
    return hasClass(media, "media_photo") ? "photo" : "video_file";
  }
  for (const [cls, type] of MEDIA_CLASSES) if (hasClass(media, cls)) return type;
  return "other";
}

function reactionsOf(span: Element | undefined): TelegramReaction[] | null {
  if (!span) return null;
  const reactions: TelegramReaction[] = [];
  for (const r of span.children) {
    if (r.type !== "tag" || !hasClass(r, "reaction")) continue;
    const emojiEl = childWithClass(r, "emoji");
    const countEl = childWithClass(r, "count");
    const userpics = childWithClass(r, "userpics");
    // The count is written only when it exceeds the recent reactors shown as userpics.
    const count = countEl ? Number(textOf(countEl).trim()) : (userpics?.children.filter((c) => c.type === "tag").length ?? 0);
    const custom = emojiEl ? findTag(emojiEl, (el) => el.name === "a") : undefined;
    reactions.push({
      type: hasClass(r, "paid") ? "paid" : custom ? "custom_emoji" : "emoji",
      emoji: emojiEl ? textOf(emojiEl).trim() || null : null,
      count,
    });
  }
  return reactions;
}

/**
 * Whether $(text) parses `text` as markup rather than running it as a selector: cheerio's own
 * test, the first `<` followed by a letter or `!`, and a `>` after it.
 */
function isHtml(text: string): boolean {
  const open = text.indexOf("<");
  return open >= 0 && /[A-Za-z!]/.test(text.charAt(open + 1)) && text.includes(">", open + 2);
}

/** 1-based line of a character index; indices must come in increasing order, as messages do. */
function lineCounter(text: string): (index: number) => number {
  let position = 0;
  let line = 1;
  return (index) => {
    while (position < index) {
      const next = text.indexOf("\n", position);
      if (next < 0 || next >= index) {
        position = index;
        break;
      }
      line++;
      position = next + 1;
    }
    return line;
  };
}
