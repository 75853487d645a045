import type { HtmlChat, HtmlEntry } from "./telegramHtml.ts";

/**
 * A chat's entries as Telegram Desktop's JSON export writes a single chat (export_output_json.cpp):
 * `result.json` with the chat's name, type and id, and its messages with `date` (the exporting
 * machine's local time, no offset) and `date_unixtime`, senders as `from` / `from_id`, service
 * messages by their `actor` with an `action`, and text as plain text with its entities. The
 * entries are the HTML writer's, so both forms of an export say the same.
 */
export function renderTelegramJson(chat: HtmlChat & { id: number }, options: { offsetMinutes: number }): string {
  const messages = chat.entries.map((entry) => message(entry, options.offsetMinutes));
  return JSON.stringify({ name: chat.title, type: "private_supergroup", id: chat.id, messages }, null, 1) + "\n";
}

function message(entry: HtmlEntry, offsetMinutes: number): Record<string, unknown> {
  const dates = { date: localIso(entry.date, offsetMinutes), date_unixtime: String(entry.date) };
  if (entry.kind === "service") {
    return { id: entry.id, type: "service", ...dates, actor: entry.actor ?? null, action: "invite_members", text: "", text_entities: [] };
  }
  const text = plain(entry.text ?? "");
  return {
    id: entry.id,
    type: "message",
    ...dates,
    from: entry.from.name.trim(),
    from_id: `user${entry.from.id}`,
    ...(entry.replyTo === undefined ? {} : { reply_to_message_id: entry.replyTo }),
    text,
    text_entities: text ? [{ type: "plain", text }] : [],
  };
}

/** `2024-01-08T10:00:00`: the local wall-clock time, as the exporter writes `date`. */
function localIso(unixSeconds: number, offsetMinutes: number): string {
  return new Date((unixSeconds + offsetMinutes * 60) * 1000).toISOString().slice(0, 19);
}

/** The text of markup the sample wrote: tags dropped, the HTML writer's escapes undone. */
function plain(markup: string): string {
  return markup
    .replace(/<br>/g, "\n")
    .replace(/<[^>]+>/g, "")
    .replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" })[name]!);
}
