import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chatter } from "./chatter.ts";
import { createPrng, type Prng } from "./prng.ts";
import { escape, pageName, renderTelegramChat, type HtmlEntry } from "./telegramHtml.ts";
import { renderTelegramJson } from "./telegramJson.ts";
import { companies, people, type Person } from "./world.ts";

export interface TelegramSampleManifest {
  chats: { folder: string; name: string; messages: number; service: number; authors: number }[];
  /** Regular messages in all chats. */
  messages: number;
  service: number;
  /** Authors whose Telegram name is not in `seeds/users.csv`. */
  unmappedAuthors: string[];
}

/** The exporting machine's UTC offset, which every date title carries. */
const OFFSET_MINUTES = 60;
/** Telegram's id of the first company group, as a JSON export shows it; the others follow. */
const CHAT_IDS = 1_700_000_001;
const DAY = 86_400_000;

/**
 * Writes one Telegram Desktop HTML chat folder per company Telegram group of the company mapping
 * (`chats/group_01/messages.html`, …) under `dir`, in 2024, between the seed users with a
 * Telegram name (staff and that company's people) and one outsider per chat whose name no seed
 * knows. telegramHtml.ts writes the markup; with `format: "json"`, each folder holds the chat's
 * `result.json` instead (telegramJson.ts). With `exportedAt` (Unix seconds), the export is the one
 * taken then: the messages sent later are not in it, as in an earlier export of the same chats.
 */
export function writeSampleTelegramChats(
  dir: string,
  options: { seed: number; messagesPerChat: number; exportedAt?: number; format?: "html" | "json" },
): TelegramSampleManifest {
  const prng = createPrng(options.seed).fork("telegram");
  const staff = people().filter((p) => p.isInternal && p.telegramName);
  const manifest: TelegramSampleManifest = { chats: [], messages: 0, service: 0, unmappedAuthors: [] };
  const groups = companies.filter((c) => c.telegramGroup);
  const outsiders = ["Mila Horvat", "Theo Lambert", "Ayşe Kaya", "Jonah Reed", "Petra Novak", "Luca Fontana", "Nadia Sultani"];
  for (const [index, company] of groups.entries()) {
    const folder = `group_${String(index + 1).padStart(2, "0")}`;
    const outsider = outsiders[index % outsiders.length]!;
    const members: string[] = [
      ...staff.map((p) => p.telegramName!),
      ...people()
        .filter((p: Person) => !p.isInternal && p.canonicalCompany === company.company && p.telegramName)
        .map((p) => p.telegramName!),
      outsider,
    ];
    if (company.company === companies[0]!.company) {
      // The beta community is open: individual users without a company talk there too.
      members.push(
        ...people()
          .filter((p) => !p.canonicalCompany && p.telegramName)
          .map((p) => p.telegramName!),
      );
    }
    const all = chatEntries(prng, members, options.messagesPerChat);
    const entries = options.exportedAt === undefined ? all : all.filter((e) => e.date <= options.exportedAt!);
    const chat = { id: CHAT_IDS + index, title: company.telegramGroup!, entries };
    const chatDir = join(dir, "chats", folder);
    mkdirSync(chatDir, { recursive: true });
    if (options.format === "json") writeFileSync(join(chatDir, "result.json"), renderTelegramJson(chat, { offsetMinutes: OFFSET_MINUTES }));
    else renderTelegramChat(chat, { offsetMinutes: OFFSET_MINUTES }).forEach((page, p) => writeFileSync(join(chatDir, pageName(p)), page));
    const authors = new Set(entries.flatMap((e) => (e.kind === "message" ? [e.from.name.trim()] : [])));
    const service = entries.filter((e) => e.kind === "service").length;
    manifest.chats.push({
      folder: `chats/${folder}`,
      name: chat.title,
      messages: entries.length - service,
      service,
      authors: authors.size,
    });
    manifest.messages += entries.length - service;
    manifest.service += service;
    if (authors.has(outsider)) manifest.unmappedAuthors.push(outsider);
  }
  return manifest;
}

/** One chat's entries: bursts by a few talkative members, replies to recent messages, invitations. */
function chatEntries(prng: Prng, members: string[], count: number): HtmlEntry[] {
  const entries: HtmlEntry[] = [];
  let previous = null as { author: string; at: number } | null;
  let id = 100 + prng.int(0, 50);
  let at = Date.UTC(2024, 0, 8, 9) + prng.int(0, 20) * DAY;
  const ids: number[] = [];
  // A few people do most of the talking.
  const weights = members.map((_, i) => 1 / (1 + (i % 7)));
  for (let n = 0; n < count; n++) {
    if (n > 0) {
      id += prng.chance(0.1) ? prng.int(2, 5) : 1;
      at += prng.chance(0.08) ? prng.int(1, 6) * DAY : prng.int(20, 1800) * 1000;
      if (at >= Date.UTC(2024, 11, 31, 18)) at = Date.UTC(2024, 11, 31, 18) - prng.int(1, 3600) * 1000;
    }
    const date = at / 1000;
    // Every page file of the sample has always begun a new burst; kept so that samples stay as they were.
    if (n % 1000 === 0) previous = null;
    if (n > 0 && prng.chance(0.03)) {
      const [who, whom] = [prng.pick(members), prng.pick(members)];
      entries.push({ kind: "service", id, date, text: `${escape(who)} invited ${escape(whom)}`, actor: who });
      previous = null;
      ids.push(id);
      continue;
    }
    const last: { author: string; at: number } | null = previous;
    const author: string = last && prng.chance(0.5) ? last.author : prng.weighted(members, weights);
    const replyTo = ids.length > 0 && prng.chance(0.1) ? ids[prng.int(Math.max(0, ids.length - 20), ids.length - 1)]! : undefined;
    entries.push({
      kind: "message",
      id,
      date,
      // The exporter writes "First Last" even when Last is empty, leaving a trailing space.
      from: { id: personId(author), name: author.includes(" ") ? author : `${author} `, initials: initials(author) },
      replyTo,
      text: escape(chatter(prng, personByTelegramName().get(author)).text),
    });
    previous = { author, at };
    ids.push(id);
  }
  return entries;
}

/** A person's Telegram user id, the same in every chat: from their name, which is unique in the sample. */
function personId(name: string): number {
  return 1000 + (parseInt(createHash("sha256").update(name).digest("hex").slice(0, 8), 16) % 9_000_000);
}

function initials(name: string): string {
  return name
    .split(" ")
    .map((w) => w.slice(0, 1))
    .join("")
    .slice(0, 2);
}

let byTelegramName: Map<string, Person> | undefined;

/** The person behind a chat name (the first, for the few names two people share). */
function personByTelegramName(): Map<string, Person> {
  if (!byTelegramName) {
    byTelegramName = new Map();
    for (const p of people()) if (p.telegramName && !byTelegramName.has(p.telegramName)) byTelegramName.set(p.telegramName, p);
  }
  return byTelegramName;
}
