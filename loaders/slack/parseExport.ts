import { createHash } from "node:crypto";
import type { SourceDocument, SourceRecord } from "../land.ts";
import { countLines, parseJsonArray, type JsonArrayElement } from "./jsonArray.ts";
import { slackMessage } from "./message.ts";
import type { ExportFile } from "./readExport.ts";
import type { SlackNames } from "./text.ts";

/** The conversation lists of an export; every one lands in `raw.slack_channels`. */
export const CHANNEL_LISTS = ["channels.json", "groups.json", "mpims.json", "dms.json"];
const DAY_FILE = /^([^/]+)\/(\d{4}-\d{2}-\d{2})\.json$/;

/** Whether a name inside an export is a channel's day file (`general/2016-05-01.json`). */
export function isDayFile(name: string): boolean {
  return DAY_FILE.test(name);
}

interface Conversation {
  id: string;
  name: string;
}

/** Who is who and which channel is which: what day files are resolved against. */
export interface SlackDirectory {
  /** The team id most of users.json's users carry, if any: the workspace the export is of. */
  teamId: string | undefined;
  users: SourceDocument[];
  channels: SourceDocument[];
  names: SlackNames;
  isBotUser(id: string): boolean;
  conversation(folder: string): Conversation;
}

/**
 * Reads `users.json` and the conversation lists into their landing documents (their objects
 * land as they are, one row per element) and the lookups messages need: display names
 * (display name, else real name, else handle) and conversations by folder name or id.
 */
export function slackDirectory(usersFile: ExportFile | undefined, channelFiles: ExportFile[]): SlackDirectory {
  const usersRead = usersFile ? readArray(usersFile, asTheyAre) : undefined;
  const userNames = new Map<string, string>();
  const botUsers = new Set<string>();
  const teams = new Map<string, number>();
  for (const element of usersRead?.elements ?? []) {
    const user = element.value as Record<string, unknown> | null;
    if (!user || typeof user !== "object" || typeof user.id !== "string") continue;
    if (typeof user.team_id === "string" && user.team_id) teams.set(user.team_id, (teams.get(user.team_id) ?? 0) + 1);
    const profile = (user.profile ?? {}) as Record<string, unknown>;
    const name = [profile.display_name, profile.real_name, user.real_name, user.name].find(
      (n): n is string => typeof n === "string" && n.trim() !== "",
    );
    if (name) userNames.set(user.id, name);
    if (user.is_bot === true) botUsers.add(user.id);
  }

  const channelReads = channelFiles.map((file) => readArray(file, asTheyAre));
  const conversations = new Map<string, Conversation>();
  for (const { elements } of channelReads) {
    for (const { value } of elements) {
      const c = value as Record<string, unknown> | null;
      if (!c || typeof c !== "object" || typeof c.id !== "string") continue;
      const members = Array.isArray(c.members) ? c.members.filter((m): m is string => typeof m === "string") : [];
      // Direct messages have no name; their folder is named by id and people know them by who is in them.
      const name = typeof c.name === "string" && c.name ? c.name : members.map((m) => userNames.get(m) ?? m).join(", ") || c.id;
      const conversation = { id: c.id, name };
      conversations.set(c.id, conversation);
      if (typeof c.name === "string" && c.name) conversations.set(c.name, conversation);
    }
  }
  return {
    // Guests from other workspaces carry their own team id; the export's own team has the most users.
    teamId: [...teams].sort((a, b) => b[1] - a[1])[0]?.[0],
    users: usersRead ? [usersRead.doc] : [],
    channels: channelReads.map((r) => r.doc),
    names: { user: (id) => userNames.get(id), channel: (id) => conversations.get(id)?.name },
    isBotUser: (id) => botUsers.has(id),
    conversation: (folder) => conversations.get(folder) ?? { id: folder, name: folder },
  };
}

/**
 * A channel's day file as a landing document of one canonical message per element. A file
 * that is not a JSON array is quarantined whole; an element that is not a message is
 * quarantined alone, and its neighbours land.
 */
export function dayFileDocument(file: ExportFile, directory: SlackDirectory): SourceDocument {
  const folder = file.name.slice(0, file.name.indexOf("/"));
  const conversation = directory.conversation(folder);
  const context = { chatId: conversation.id, chatName: conversation.name, names: directory.names, isBotUser: directory.isBotUser };
  return readArray(file, ({ value, line }) => {
    const message = slackMessage(value, context);
    return "error" in message
      ? { line, raw: JSON.stringify(value) ?? String(value), error: message.error }
      : { line, json: JSON.stringify(message) };
  }).doc;
}

/** The team id the first message that has one carries (`team`, in exports since 2019), for an export without users.json. */
export function teamOfMessages(files: ExportFile[]): string | undefined {
  for (const file of files) {
    if (!file.bytes) continue;
    let list: unknown;
    try {
      list = JSON.parse(new TextDecoder().decode(file.bytes));
    } catch {
      continue;
    }
    if (!Array.isArray(list)) continue;
    for (const m of list) if (m && typeof m === "object" && typeof m.team === "string" && m.team) return m.team;
  }
  return undefined;
}

/** users.json and the conversation lists land their objects as they are. */
function asTheyAre({ value, line }: JsonArrayElement): SourceRecord {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? { line, json: JSON.stringify(value) }
    : { line, raw: JSON.stringify(value), error: "element is not a JSON object" };
}

/**
 * One element's record; an element that cannot be turned into one (nested so deep that
 * serialising it overflows the stack) is quarantined alone, as its own text, and its
 * neighbours land.
 */
function oneElement(element: JsonArrayElement, text: string, record: (element: JsonArrayElement) => SourceRecord): SourceRecord {
  try {
    return record(element);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const raw = text.slice(element.start, element.end).trim();
    return { line: element.line, raw, error: `element cannot be processed: ${error.message} (nested too deeply?)` };
  }
}

/**
 * A file's document with one record per element, made by `record`; a file that does not parse
 * becomes one quarantined record, and a file that could not be read at all a failed document.
 */
function readArray(
  file: ExportFile,
  record: (element: JsonArrayElement) => SourceRecord,
): { doc: SourceDocument; elements: JsonArrayElement[] } {
  const doc: SourceDocument = {
    path: file.path,
    fileName: file.name,
    sha256: createHash("sha256")
      .update(file.bytes ?? file.fingerprint ?? "")
      .digest("hex"),
    bytes: file.bytes?.byteLength ?? 0,
    lines: 0,
    records: [],
  };
  if (file.bytes === undefined) {
    doc.failure = `${file.path}: ${file.unreadable}`;
    return { doc, elements: [] };
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(file.bytes);
  } catch {
    text = new TextDecoder("utf-8").decode(file.bytes);
    doc.lines = countLines(text);
    doc.records = [{ line: 1, raw: text, error: "file is not valid UTF-8" }];
    return { doc, elements: [] };
  }
  doc.lines = countLines(text);
  let elements: JsonArrayElement[];
  try {
    elements = parseJsonArray(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    doc.records = [{ line: errorLine(text, message), raw: text, error: `not a JSON array: ${message}` }];
    return { doc, elements: [] };
  }
  doc.records = elements.map((element) => oneElement(element, text, record));
  return { doc, elements };
}

/** The line a JSON.parse error points at ("… at position 123"), else 1. */
function errorLine(text: string, message: string): number {
  const line = /line (\d+)/.exec(message);
  if (line) return Number(line[1]);
  const position = /position (\d+)/.exec(message);
  if (!position) return 1;
  return countLines(text.slice(0, Number(position[1]) + 1)) || 1;
}
