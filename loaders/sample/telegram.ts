import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chatter } from "./chatter.ts";
import { createPrng, type Prng } from "./prng.ts";
import { dayText, escape, pageName, timeText, titleDate } from "./telegramMarkup.ts";
import { companies, people, type Person } from "./world.ts";

export interface TelegramSampleManifest {
  chats: { folder: string; name: string; messages: number; service: number; authors: number }[];
  /** Regular messages in all chats. */
  messages: number;
  service: number;
  /** Authors whose Telegram name is not in `seeds/users.csv`. */
  unmappedAuthors: string[];
}

const PAGE_MESSAGES = 1000;
const JOIN_WITHIN_MS = 15 * 60_000;
/** The exporting machine's UTC offset, which every date title carries. */
const OFFSET_MINUTES = 60;
const DAY = 86_400_000;

/**
 * Writes one Telegram Desktop HTML chat folder per company Telegram group of the company mapping
 * (`chats/group_01/messages.html`, …) under `dir`, in 2024, between the seed users with a
 * Telegram name (staff and that company's people) and one outsider per chat whose name no seed
 * knows. The markup follows the exporter's (export_output_html.cpp): date separators with
 * negative ids, joined messages without a from_name, replies as go_to_message links, a page
 * file per 1000 messages.
 */
export function writeSampleTelegramChats(dir: string, options: { seed: number; messagesPerChat: number }): TelegramSampleManifest {
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
    const chat = renderChat(prng, company.telegramGroup!, members, options.messagesPerChat);
    const chatDir = join(dir, "chats", folder);
    mkdirSync(chatDir, { recursive: true });
    chat.pages.forEach((page, p) => writeFileSync(join(chatDir, pageName(p)), page));
    manifest.chats.push({
      folder: `chats/${folder}`,
      name: company.telegramGroup!,
      messages: chat.messages,
      service: chat.service,
      authors: chat.authors.size,
    });
    manifest.messages += chat.messages;
    manifest.service += chat.service;
    if (chat.authors.has(outsider)) manifest.unmappedAuthors.push(outsider);
  }
  return manifest;
}

function renderChat(prng: Prng, title: string, members: string[], count: number) {
  const pages: string[] = [];
  let page: string[] = [];
  let onPage = 0;
  let previous = null as { author: string; at: number } | null;
  let lastDay = -1;
  let id = 100 + prng.int(0, 50);
  let dateId = 0;
  let at = Date.UTC(2024, 0, 8, 9) + prng.int(0, 20) * DAY;
  const ids: number[] = [];
  const authors = new Set<string>();
  let service = 0;
  // A few people do most of the talking.
  const weights = members.map((_, i) => 1 / (1 + (i % 7)));

  const startPage = () => {
    page = [opening(title, pages.length)];
    onPage = 0;
    previous = null;
    lastDay = -1;
  };
  startPage();
  for (let n = 0; n < count; n++) {
    if (onPage === PAGE_MESSAGES) {
      page.push(`<a class="pagination block_link" href="${pageName(pages.length + 1)}">\nNext messages\n</a>\n`);
      pages.push(page.join("") + closing());
      startPage();
    }
    if (n > 0) {
      id += prng.chance(0.1) ? prng.int(2, 5) : 1;
      at += prng.chance(0.08) ? prng.int(1, 6) * DAY : prng.int(20, 1800) * 1000;
      if (at >= Date.UTC(2024, 11, 31, 18)) at = Date.UTC(2024, 11, 31, 18) - prng.int(1, 3600) * 1000;
    }
    const local = at + OFFSET_MINUTES * 60_000;
    const day = Math.floor(local / DAY);
    const sameDay = day === lastDay;
    if (!sameDay) page.push(serviceMessage(--dateId, dayText(local)));
    lastDay = day;

    if (n > 0 && prng.chance(0.03)) {
      const [who, whom] = [prng.pick(members), prng.pick(members)];
      page.push(serviceMessage(id, `${escape(who)} invited ${escape(whom)}`));
      previous = null;
      ids.push(id);
      service++;
      onPage++;
      continue;
    }
    const last: { author: string; at: number } | null = previous;
    const author: string = last && prng.chance(0.5) ? last.author : prng.weighted(members, weights);
    const joined = last !== null && last.author === author && at - last.at <= JOIN_WITHIN_MS && sameDay;
    authors.add(author);
    let body = `<div class="pull_right date details" title="${titleDate(local, OFFSET_MINUTES)}">\n${timeText(local)}\n</div>\n`;
    // The exporter writes "First Last" even when Last is empty, leaving a trailing space.
    if (!joined) body += `<div class="from_name">\n${escape(author.includes(" ") ? author : `${author} `)}\n</div>\n`;
    if (ids.length > 0 && prng.chance(0.1)) {
      const target = ids[prng.int(Math.max(0, ids.length - 20), ids.length - 1)]!;
      const targetPage = Math.floor(ids.indexOf(target) / PAGE_MESSAGES);
      const href = targetPage === pages.length ? `#go_to_message${target}` : `${pageName(targetPage)}#go_to_message${target}`;
      body += `<div class="reply_to details">\nIn reply to <a href="${href}" onclick="return GoToMessage(${target})">this message</a>\n</div>\n`;
    }
    body += `<div class="text">\n${escape(chatter(prng).text)}\n</div>\n`;
    const pic = joined
      ? ""
      : `<div class="pull_left userpic_wrap">\n<div class="userpic userpic${(authors.size % 8) + 1}" style="width: 42px; height: 42px">\n<div class="initials" style="line-height: 42px">\n${escape(initials(author))}\n</div>\n</div>\n</div>\n`;
    page.push(
      `<div class="message default clearfix${joined ? " joined" : ""}" id="message${id}">\n${pic}<div class="body">\n${body}</div>\n</div>\n`,
    );
    previous = { author, at };
    ids.push(id);
    onPage++;
  }
  pages.push(page.join("") + closing());
  return { pages, messages: count - service, service, authors };
}

function opening(title: string, pageIndex: number): string {
  const previous = pageIndex > 0 ? `<a class="pagination block_link" href="${pageName(pageIndex - 1)}">\nPrevious messages\n</a>\n` : "";
  return (
    `<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8"/>\n<title>Exported Data</title>\n` +
    `<meta content="width=device-width, initial-scale=1.0" name="viewport"/>\n<link href="../../css/style.css" rel="stylesheet"/>\n</head>\n` +
    `<body onload="CheckLocation();">\n<div class="page_wrap">\n<div class="page_header">\n` +
    `<a class="content block_link" href="../../lists/chats.html" onclick="return GoBack(this)">\n<div class="text bold">\n${escape(title)}\n</div>\n</a>\n</div>\n` +
    `<div class="page_body chat_page">\n<div class="history">\n${previous}`
  );
}

function closing(): string {
  return "</div>\n</div>\n</div>\n</body>\n</html>\n";
}

function serviceMessage(id: number, text: string): string {
  return `<div class="message service" id="message${id}">\n<div class="body details">\n${text}\n</div>\n</div>\n`;
}

function initials(name: string): string {
  return name
    .split(" ")
    .map((w) => w.slice(0, 1))
    .join("")
    .slice(0, 2);
}
