/**
 * The canonical Telegram message that lands in `raw.telegram_messages`, one JSON object per
 * message whichever form (HTML or JSON) the export came in. Keys are written in one fixed order
 * so that the same message always yields the same payload text.
 */
export interface TelegramMessage {
  source: "telegram";
  /** Telegram's chat id (JSON exports); null in HTML exports, which have none. */
  chat_id: string | null;
  chat_name: string | null;
  message_id: number;
  type: "regular" | "service";
  author: string | null;
  /** `user123` / `channel123` / `chat123`; null in HTML exports, which carry no ids. */
  author_id: string | null;
  /** The bot's username without the `@`. */
  via_bot: string | null;
  /** ISO-8601 in UTC; null only for HTML service messages, which the exporter writes without a date. */
  sent_at: string | null;
  text: string;
  reply_to_message_id: number | null;
  forwarded_from: string | null;
  media_type: string | null;
  reactions: TelegramReaction[] | null;
}

export interface TelegramReaction {
  type: "emoji" | "custom_emoji" | "paid";
  emoji: string | null;
  count: number;
}

/**
 * The text `JSON.stringify` gives for the message's fields in this order, written out by hand:
 * every message goes through here, and this takes half the time of stringifying an object. The
 * numbers are finite integers (parsed from digits) and `source` and `type` are fixed words, so
 * they are written as they are; strings and reactions go through JSON.stringify.
 */
export function messageJson(m: TelegramMessage): string {
  return (
    `{"source":"${m.source}","chat_id":${text(m.chat_id)},"chat_name":${text(m.chat_name)},"message_id":${m.message_id},` +
    `"type":"${m.type}","author":${text(m.author)},"author_id":${text(m.author_id)},"via_bot":${text(m.via_bot)},` +
    `"sent_at":${text(m.sent_at)},"text":${JSON.stringify(m.text)},"reply_to_message_id":${m.reply_to_message_id},` +
    `"forwarded_from":${text(m.forwarded_from)},"media_type":${text(m.media_type)},` +
    `"reactions":${m.reactions === null ? "null" : JSON.stringify(m.reactions)}}`
  );
}

function text(value: string | null): string {
  return value === null ? "null" : JSON.stringify(value);
}
