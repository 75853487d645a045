import type { SourceRecord } from "../land.ts";
import { parseLocalIsoDate } from "./date.ts";
import { messageJson, type TelegramMessage, type TelegramReaction } from "./message.ts";
import type { WallClockToUtc } from "./timezone.ts";

type Json = Record<string, unknown>;

// How much of an unreadable result.json the quarantine keeps; the file itself stays on disk.
const MAX_RAW = 1_000_000;

/**
 * Parses a Telegram Desktop `result.json` (export_output_json.cpp) into one record per message,
 * numbered 1, 2, … through the file. A single-chat export has `name`, `type`, `id`, `messages`
 * at the top; a whole-account export lists chats under `chats.list` and `left_chats.list`.
 * Facts of the format handled here: `text` is a string or an array of strings and
 * `{type, text}` parts; `date_unixtime` is a string (older exports have only `date`, local
 * time without an offset); `from_id` is `user123` / `channel123` since 2021 and a bare number
 * before; `from` is null for a deleted account. Every `"type": "service"` message lands as a
 * service message whatever its `action` (calls, joins, pins, …), its actor as the author; a
 * call keeps `phone_call` as its media type.
 */
export function parseJsonExport(text: string, wallClock: WallClockToUtc): SourceRecord[] {
  let root: unknown;
  try {
    root = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    return [{ line: 1, raw: text.slice(0, MAX_RAW), error: `result.json is not valid JSON: ${(error as Error).message}` }];
  }
  const chats = chatsOf(root);
  if (!chats) return [{ line: 1, raw: text.slice(0, MAX_RAW), error: "result.json has neither messages nor chats.list" }];

  const records: SourceRecord[] = [];
  let line = 0;
  for (const chat of chats) {
    const chatId = chat.id === undefined || chat.id === null ? null : String(chat.id);
    const chatName = typeof chat.name === "string" ? chat.name : chat.type === "saved_messages" ? "Saved messages" : null;
    const messages = Array.isArray(chat.messages) ? chat.messages : [];
    for (const message of messages) {
      line++;
      const result = canonical(message, chatId, chatName, wallClock);
      records.push(
        typeof result === "string" ? { line, raw: JSON.stringify(message), error: result } : { line, json: messageJson(result) },
      );
    }
  }
  return records;
}

function chatsOf(root: unknown): Json[] | null {
  if (!isObject(root)) return null;
  if (Array.isArray(root.messages)) return [root];
  const lists = [root.chats, root.left_chats].flatMap((section) =>
    isObject(section) && Array.isArray(section.list) ? section.list.filter(isObject) : [],
  );
  return isObject(root.chats) || isObject(root.left_chats) ? lists : null;
}

/** The canonical message, or the reason it cannot be made one. */
function canonical(m: unknown, chatId: string | null, chatName: string | null, wallClock: WallClockToUtc): TelegramMessage | string {
  if (!isObject(m)) return "message is not an object";
  if (chatId === null) return "chat has no id";
  const id = typeof m.id === "number" ? m.id : typeof m.id === "string" ? Number(m.id) : NaN;
  if (!Number.isInteger(id)) return `message without a numeric id (id=${JSON.stringify(m.id)})`;
  const sentAt = sentAtOf(m, wallClock);
  if (!sentAt) return `unparseable date (date=${JSON.stringify(m.date)}, date_unixtime=${JSON.stringify(m.date_unixtime)})`;

  const service = m.type === "service" || m.type === "unsupported";
  if (!service && m.type !== "message") return `message of unknown type ${JSON.stringify(m.type)}`;
  const call = m.type === "service" && m.action === "phone_call";
  const authorKey = service ? "actor" : "from";
  return {
    source: "telegram",
    chat_id: chatId,
    chat_name: chatName,
    message_id: id,
    type: service ? "service" : "regular",
    author: authorKey in m ? (typeof m[authorKey] === "string" ? (m[authorKey] as string) : "Deleted Account") : null,
    author_id: peerId(m[`${authorKey}_id`]),
    via_bot: typeof m.via_bot === "string" ? m.via_bot.replace(/^@/, "") : null,
    sent_at: sentAt,
    text: plainText(m.text),
    reply_to_message_id: typeof m.reply_to_message_id === "number" ? m.reply_to_message_id : null,
    forwarded_from: typeof m.forwarded_from === "string" ? m.forwarded_from : null,
    media_type: call ? "phone_call" : mediaTypeOf(m),
    reactions: reactionsOf(m.reactions),
  };
}

function sentAtOf(m: Json, wallClock: WallClockToUtc): string | null {
  const unix = typeof m.date_unixtime === "string" ? Number(m.date_unixtime) : typeof m.date_unixtime === "number" ? m.date_unixtime : NaN;
  if (Number.isFinite(unix) && m.date_unixtime !== "") return new Date(unix * 1000).toISOString();
  return typeof m.date === "string" ? parseLocalIsoDate(m.date, wallClock) : null;
}

/** Old exports wrote `from_id` as the bare user id. */
function peerId(value: unknown): string | null {
  if (typeof value === "number") return `user${value}`;
  return typeof value === "string" && value !== "" ? value : null;
}

function plainText(text: unknown): string {
  if (typeof text === "string") return text;
  if (!Array.isArray(text)) return "";
  return text.map((part) => (typeof part === "string" ? part : isObject(part) && typeof part.text === "string" ? part.text : "")).join("");
}

function mediaTypeOf(m: Json): string | null {
  if (typeof m.media_type === "string") return m.media_type;
  if ("photo" in m) return "photo";
  if ("poll" in m) return "poll";
  if ("contact_information" in m) return "contact";
  if ("live_location_period_seconds" in m) return "live_location";
  if ("place_name" in m) return "venue";
  if ("location_information" in m) return "location";
  if ("game_title" in m) return "game";
  if ("invoice_information" in m) return "invoice";
  if ("giveaway_information" in m) return "giveaway";
  if ("todo_list" in m) return "todo_list";
  if ("file" in m) return "file";
  return null;
}

function reactionsOf(value: unknown): TelegramReaction[] | null {
  if (!Array.isArray(value)) return null;
  return value.filter(isObject).map((r) => ({
    type: r.type === "custom_emoji" ? "custom_emoji" : r.type === "paid" ? "paid" : "emoji",
    emoji: typeof r.emoji === "string" ? r.emoji : null,
    count: typeof r.count === "number" ? r.count : Array.isArray(r.recent) ? r.recent.length : 0,
  }));
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
