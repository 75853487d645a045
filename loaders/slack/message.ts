import { decodeSlackText, type SlackNames } from "./text.ts";

/** What a message needs to know about where it was posted and who is who. */
export interface SlackContext {
  chatId: string;
  chatName: string;
  names: SlackNames;
  isBotUser(id: string): boolean;
}

/** A file attached to a message, in the shape every export era is reduced to. */
export interface SlackFile {
  id: string | null;
  name: string | null;
  title: string | null;
  mimetype: string | null;
  filetype: string | null;
  size: number | null;
  created_at: string | null;
}

/** The canonical message every chat loader writes (Telegram's fields plus Slack's own). */
export interface SlackMessage {
  source: "slack";
  chat_id: string;
  chat_name: string;
  message_id: string;
  type: "regular" | "service";
  author: string | null;
  author_id: string | null;
  /** Posted by a bot or an integration (Telegram's via_bot is instead the inline bot a person used). */
  via_bot: boolean;
  sent_at: string;
  text: string;
  reply_to_message_id: string | null;
  forwarded_from: string | null;
  media_type: string | null;
  /** Telegram's reaction shape plus who reacted; Slack names emoji (`+1`) rather than drawing them. */
  reactions: { type: "emoji"; emoji: string; count: number; users: string[] }[] | null;
  thread_ts: string | null;
  subtype: string | null;
  edited_at: string | null;
  files: SlackFile[] | null;
}

/** Subtypes that record something happening to the channel rather than someone saying something. */
const serviceSubtypes = new Set([
  "bot_add",
  "bot_remove",
  "bot_enable",
  "bot_disable",
  "pinned_item",
  "unpinned_item",
  "tombstone",
  "reminder_add",
  "sh_room_created",
  "app_conversation_join",
]);

export function isServiceSubtype(subtype: string | null): boolean {
  if (!subtype) return false;
  return /^(channel|group)_/.test(subtype) || subtype.endsWith("_join") || subtype.endsWith("_leave") || serviceSubtypes.has(subtype);
}

/** Slack's `ts` ("1452837318.000002", seconds since the epoch) as ISO-8601 UTC, microseconds kept. */
export function slackTsToIso(ts: string): string | null {
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(ts.trim());
  if (!match) return null;
  const date = new Date(Number(match[1]) * 1000);
  if (Number.isNaN(date.getTime())) return null;
  return `${date.toISOString().slice(0, 19)}.${(match[2] ?? "").padEnd(6, "0")}Z`;
}

/**
 * One exported message in canonical form, or the reason it cannot be one (it is not an object,
 * or its `ts` is missing or unreadable, so it has neither an id nor a time).
 */
export function slackMessage(raw: unknown, context: SlackContext): SlackMessage | { error: string } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return { error: "message is not a JSON object" };
  const m = raw as Record<string, unknown>;
  const ts = typeof m.ts === "number" ? String(m.ts) : m.ts;
  if (typeof ts !== "string" || !ts) return { error: "message has no ts" };
  const sentAt = slackTsToIso(ts);
  if (!sentAt) return { error: `message ts ${JSON.stringify(ts)} is not a Slack timestamp` };

  const subtype = str(m.subtype);
  // A file comment of the old exports names its author only inside `comment`.
  const userId = str(m.user) ?? str(obj(m.comment)?.user);
  const botId = str(m.bot_id);
  const botProfile = obj(m.bot_profile);
  const author = (userId && context.names.user(userId)) ?? str(m.username) ?? str(botProfile?.name) ?? (userId ? null : botId);
  const isBot = subtype === "bot_message" || (userId !== null && context.isBotUser(userId)) || (userId === null && botId !== null);
  const threadTs = str(m.thread_ts);
  const attachments = Array.isArray(m.attachments) ? m.attachments.map(obj).filter((a) => a !== null) : [];
  const files = messageFiles(m);
  const edited = obj(m.edited);
  const editedTs = str(edited?.ts);

  let text = decodeSlackText(str(m.text) ?? "", context.names);
  if (!text.trim() && attachments.length > 0) {
    // Integrations post their content as attachments with empty text; what a reader sees is the fallback.
    text = attachments
      .map((a) => str(a.fallback) ?? str(a.text) ?? str(a.pretext) ?? "")
      .filter((t) => t !== "")
      .map((t) => decodeSlackText(t, context.names))
      .join("\n");
  }
  const shared = attachments.find((a) => a.is_share === true || a.is_msg_unfurl === true);

  return {
    source: "slack",
    chat_id: context.chatId,
    chat_name: context.chatName,
    message_id: ts,
    type: isServiceSubtype(subtype) ? "service" : "regular",
    author,
    author_id: userId ?? botId,
    via_bot: isBot,
    sent_at: sentAt,
    text,
    reply_to_message_id: threadTs && threadTs !== ts ? threadTs : null,
    forwarded_from: shared ? (str(shared.author_name) ?? str(shared.author_subname) ?? str(shared.channel_name)) : null,
    media_type: files ? mediaType(files[0]!) : null,
    reactions: reactionsOf(m.reactions),
    thread_ts: threadTs,
    subtype,
    edited_at: editedTs ? slackTsToIso(editedTs) : null,
    files,
  };
}

function messageFiles(m: Record<string, unknown>): SlackFile[] | null {
  // Exports before 2018 carry one `file`; later ones a `files` array.
  const list = Array.isArray(m.files) ? m.files : m.file ? [m.file] : [];
  const files = list
    .map(obj)
    .filter((f) => f !== null)
    .map((f): SlackFile => {
      const created = Number(f.created ?? f.timestamp);
      return {
        id: str(f.id),
        name: str(f.name),
        title: str(f.title),
        mimetype: str(f.mimetype),
        filetype: str(f.filetype),
        size: typeof f.size === "number" ? f.size : f.size != null && Number.isFinite(Number(f.size)) ? Number(f.size) : null,
        created_at: Number.isFinite(created) && created > 0 ? slackTsToIso(String(Math.trunc(created))) : null,
      };
    });
  return files.length > 0 ? files : null;
}

/** The same coarse media kinds the Telegram loader reports. */
function mediaType(file: SlackFile): string {
  const mime = file.mimetype ?? "";
  if (mime.startsWith("image/")) return "photo";
  if (mime.startsWith("video/")) return "video_file";
  if (mime.startsWith("audio/")) return "audio_file";
  return "file";
}

function reactionsOf(value: unknown): SlackMessage["reactions"] {
  if (!Array.isArray(value)) return null;
  const reactions = value
    .map(obj)
    .filter((r) => r !== null)
    .map((r) => {
      const users = Array.isArray(r.users) ? r.users.filter((u): u is string => typeof u === "string") : [];
      return { type: "emoji" as const, emoji: str(r.name) ?? "", count: typeof r.count === "number" ? r.count : users.length, users };
    });
  return reactions.length > 0 ? reactions : null;
}

function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

function obj(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
