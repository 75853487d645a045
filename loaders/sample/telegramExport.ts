import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createPrng } from "./prng.ts";
import { escape, pageName, renderTelegramChat, type HtmlEntry, type HtmlPerson, type HtmlReaction } from "./telegramHtml.ts";

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
    const pages = renderTelegramChat({ title: chat.title, entries: chatEntries(random, chat, sizes[index]!) }, { offsetMinutes });
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
  forwardedFrom: string;
}

/** One chat's entries, with the corner cases at their rates: bursts, forwards, bots, replies, media, reactions. */
function chatEntries(random: () => number, chat: Chat, count: number): HtmlEntry[] {
  const entries: HtmlEntry[] = [];
  let previous: Info | null = null;
  let id = 1 + Math.floor(random() * 50);
  let date = Date.UTC(2023, 0, 1) / 1000 + Math.floor(random() * 365 * 86400);
  const ids: number[] = [];
  for (let n = 0; n < count; n++) {
    if (n > 0) {
      id += random() < 0.1 ? 2 + Math.floor(random() * 5) : 1;
      date += random() < 0.05 ? 86400 + Math.floor(random() * 3 * 86400) : Math.floor(-Math.log(1 - random()) * 400);
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
      entries.push({ kind: "service", id, date, text, fromId: author.id });
      previous = { id, service: true, fromId: author.id, via: "", forwardedFrom: "" };
      ids.push(id);
      continue;
    }
    // Continue the previous sender's burst most of the time, so that joined blocks form.
    const sender: Person = previous && !previous.service && random() < 0.6 ? chat.people.find((p) => p.id === previous!.fromId)! : author;
    const forwarded: boolean = random() < 0.05 || (previous?.forwardedFrom !== "" && previous !== null && random() < 0.5);
    const forwardedFrom: string = forwarded
      ? previous?.forwardedFrom && random() < 0.7
        ? previous.forwardedFrom
        : `${pick(random, FIRST)} ${pick(random, LAST)}`
      : "";
    const forwardedDate = forwarded ? date - 3600 - Math.floor(random() * 86400) : 0;
    const via: string = forwarded ? "" : random() < 0.03 ? pick(random, BOTS) : previous?.via && random() < 0.5 ? previous.via : "";
    const replyTo = ids.length > 0 && random() < 0.1 ? ids[Math.floor(random() * ids.length)]! : undefined;
    const media = random() < 0.1 ? pick(random, ["photo", "sticker", "voice", "file", "video_message"]) : "";
    const text = !media || random() < 0.5 ? messageText(random) : undefined;
    entries.push({
      kind: "message",
      id,
      date,
      from: htmlPerson(sender),
      via: via || undefined,
      forwarded: forwarded ? { from: forwardedFrom, date: forwardedDate } : undefined,
      replyTo,
      media: media || undefined,
      text,
      reactions: random() < 0.08 ? reactions(random, chat) : undefined,
    });
    previous = { id, service: false, fromId: sender.id, via, forwardedFrom };
    ids.push(id);
  }
  return entries;
}

function reactions(random: () => number, chat: Chat): HtmlReaction[] {
  const kinds = 1 + Math.floor(random() * 2);
  const list: HtmlReaction[] = [];
  for (let k = 0; k < kinds; k++) {
    const active = random() < 0.3;
    const emoji = pick(random, EMOJI);
    const recent = 1 + Math.floor(random() * Math.min(3, chat.people.length));
    const count = random() < 0.3 ? recent + 5 : null;
    list.push({ emoji, active, recent: chat.people.slice(0, recent).map(htmlPerson), count });
  }
  return list;
}

function htmlPerson(person: Person): HtmlPerson {
  return { id: person.id, name: composeName(person), initials: person.first.trim().slice(0, 1) + person.last.trim().slice(0, 1) };
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

function composeName(person: Person): string {
  return !person.first && !person.last ? "Deleted Account" : `${person.first} ${person.last}`;
}

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}
