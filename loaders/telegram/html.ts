import type { SourceRecord } from "../land.ts";
import { parseTitleDate } from "./date.ts";
import { messageJson, type TelegramReaction } from "./message.ts";
import { scanPage } from "./scan.ts";
import { hasClass, type Content, type ScannedMessage, type ScannedReaction } from "./scannedPage.ts";
import type { WallClockToUtc } from "./timezone.ts";

export interface HtmlPageOptions {
  /** Null for HTML exports, which carry no chat id: the definitions derive the chat's identity from its name. */
  chatId: string | null;
  wallClock: WallClockToUtc;
}

export interface HtmlPage {
  /** The chat's name from the page header, trimmed; null if the page has none. */
  chatName: string | null;
  records: SourceRecord[];
}

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
  // A streaming read rather than a DOM: building a tree of every page's nodes was most of the
  // loader's time. Text that does not look like markup at all holds no elements.
  const page = isHtml(html) ? scanPage(html) : { title: null, hasHistory: false, messages: [] };
  const chatName = page.title === null ? null : page.title.trim() || null;
  const records: SourceRecord[] = [];
  if (!page.hasHistory) {
    // A page file with no history is not what the exporter writes: keep it in the quarantine.
    records.push({ line: 1, raw: html.slice(0, MAX_RAW), error: "page has no div.history: not a Telegram Desktop messages page" });
    return { chatName, records };
  }

  const lines = lineCounter(html);
  const idsInText = messageIdsInText(html);
  const nodes = messageElements(page.messages, idsInText.size);
  const seen = new Set<number>();
  let block: BlockHead | null = null;
  for (const [i, node] of nodes.entries()) {
    const line = lines(node.start);
    const next = nodes[i + 1];
    // Document order: a message that starts before this one ends sits inside it, so this one's
    // markup was never closed and its content cannot be told from what follows.
    const broken = next !== undefined && next.start <= node.end;
    const raw = () => html.slice(node.start, broken ? next.start : node.end + 1);
    const idMatch = /^message(-?\d+)$/.exec(node.id ?? "");
    if (!idMatch) {
      records.push({ line, raw: raw(), error: `message element without a numeric id (id="${node.id ?? ""}")` });
      continue;
    }
    const messageId = Number(idMatch[1]);
    if (messageId < 0) continue;
    seen.add(messageId);
    try {
      if (broken) throw new Unparseable(`message ${messageId}: its markup is not closed before message element ${next.id ?? "?"} begins`);
      if (hasClass(node.cls, "service")) {
        block = null;
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
            text: node.bodyText,
            reply_to_message_id: null,
            forwarded_from: null,
            media_type: null,
            reactions: null,
          }),
        });
        continue;
      }
      if (!hasClass(node.cls, "default")) throw new Unparseable(`message of unknown kind (class="${node.cls}")`);
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
 * otherwise broken markup has nested some inside others, and every one in the history counts.
 */
function messageElements(messages: ScannedMessage[], idsInText: number): ScannedMessage[] {
  const direct = messages.filter((m) => m.direct);
  if (direct.filter((m) => !/^message-/.test(m.id ?? "")).length === idsInText) return direct;
  return messages;
}

function regularMessage(
  node: ScannedMessage,
  messageId: number,
  previous: BlockHead | null,
  chatName: string | null,
  options: HtmlPageOptions,
): { json: string; head: BlockHead } {
  if (!node.body) throw new Unparseable("message without a body");
  const title = node.dateTitle;
  if (!title) throw new Unparseable("message without a date title");
  const sentAt = parseTitleDate(title, options.wallClock);
  if (!sentAt) throw new Unparseable(`unparseable date title "${title}"`);

  let author: string;
  let viaBot: string | null;
  if (hasClass(node.cls, "joined") && node.fromName === null) {
    if (!previous) throw new Unparseable("joined message with no author before it in its page file");
    ({ author, viaBot } = previous);
  } else {
    if (node.fromName === null) throw new Unparseable("message without from_name");
    ({ name: author, viaBot } = nameOf(node.fromName));
  }

  // A forward nests the original author, the reply, media and text in `forwarded body`.
  // `forwarded body`, not the `pull_left forwarded userpic_wrap` that precedes it.
  let forwardedFrom: string | null = null;
  if (node.forwarded) {
    if (node.forwardedFromName !== null) {
      const parsed = nameOf(node.forwardedFromName);
      forwardedFrom = parsed.name;
      viaBot = viaBot ?? parsed.viaBot;
    } else if (previous?.forwardedFrom) {
      forwardedFrom = previous.forwardedFrom;
      viaBot = viaBot ?? previous.viaBot;
    } else {
      throw new Unparseable("forwarded message with no original author before it in its page file");
    }
  }
  const content = node.content[node.forwarded ? 1 : 0];

  // `messages2.html#go_to_message123` when the original is on an earlier page, `#go_to_message123` on this one;
  // "In reply to a message in another chat" has no link.
  const replyTo = content.replyHref === null ? null : Number(/go_to_message(\d+)/.exec(content.replyHref)![1]);

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
    text: content.text ?? "",
    reply_to_message_id: replyTo,
    forwarded_from: forwardedFrom,
    media_type: mediaTypeOf(content),
    reactions: reactionsOf(node.reactions),
  });
  return { json, head: { author, viaBot, forwardedFrom } };
}

/**
 * A `from_name`: `First Last`, or `First ` with a trailing space when the last name is empty,
 * then ` via @bot`; a forward's also holds its date in a `span.date`, left out by the scan.
 * "Deleted Account" is kept as the author's name: it is what the exporter knows.
 */
function nameOf(written: string): { name: string; viaBot: string | null } {
  const text = written.replace(/\s+/g, " ").trim();
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

function mediaTypeOf(content: Content): string | null {
  const media = content.mediaCls;
  if (!content.mediaWrap || media === null) return null;
  // When the file was not downloaded, a sticker, an animation or a round video falls back to a
  // generic block classed as photo or video; only its title tells which.
  if (hasClass(media, "media_photo") || hasClass(media, "media_video")) {
    const fallback = content.mediaTitle === null ? undefined : GENERIC_TITLES[content.mediaTitle.trim()];
    if (fallback) return fallback;
    return hasClass(media, "media_photo") ? "photo" : "video_file";
  }
  for (const [cls, type] of MEDIA_CLASSES) if (hasClass(media, cls)) return type;
  return "other";
}

function reactionsOf(scanned: ScannedReaction[] | null): TelegramReaction[] | null {
  if (!scanned) return null;
  return scanned.map((r) => ({
    type: hasClass(r.cls, "paid") ? "paid" : r.customEmoji ? "custom_emoji" : "emoji",
    emoji: r.emoji === null ? null : r.emoji.trim() || null,
    // The count is written only when it exceeds the recent reactors shown as userpics.
    count: r.count !== null ? Number(r.count.trim()) : (r.userpics ?? 0),
  }));
}

/**
 * Whether `text` is markup at all, by cheerio's test for $(text), which the parser used to go
 * through: the first `<` followed by a letter or `!`, and a `>` after it.
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
