import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chatter } from "./chatter.ts";
import { createPrng, type Prng } from "./prng.ts";
import { APP_COMPANY, companies, people, type Person } from "./world.ts";

/** The sample workspace's team id. */
const TEAM = "T0EARSHOT1";

export interface SlackSampleManifest {
  users: number;
  /** Slack users that are not in `seeds/users.csv` (guests), by id. */
  unmappedUserIds: string[];
  botUserId: string;
  channels: { id: string; name: string; members: number; messages: number }[];
  /** Every element of every day file. */
  messages: number;
  regular: number;
  /** channel_join messages. */
  service: number;
  botMessages: number;
  threadReplies: number;
  dayFiles: number;
}

interface Member {
  id: string;
  name: string;
  displayName: string;
  realName: string;
  email: string | null;
  isBot: boolean;
  person: Person | null;
}

type SlackMessage = Record<string, unknown>;

const DAY = 86_400_000;

/**
 * Writes a Slack workspace export folder (`users.json`, `channels.json`, `<channel>/YYYY-MM-DD.json`)
 * for 2024 whose people are the seed users with a Slack id (plus three guests who are not, and a
 * bot): `#general` and `#beta-feedback`, and one shared `ext-…` channel per customer company with
 * a Slack group. Conversations come in bursts, with threads, mentions, links, reactions, edits,
 * file shares, escaped `&`/`<`/`>`, and a release bot. With `exportedAt` (Unix seconds), the export
 * is the one taken then: later messages are not in it (the manifest's per-kind counts still
 * describe the whole year; its channel and message counts what was written).
 */
export function writeSampleSlackExport(dir: string, options: { seed: number; messages: number; exportedAt?: number }): SlackSampleManifest {
  const prng = createPrng(options.seed).fork("slack");
  const members: Member[] = people()
    .filter((p) => p.slackUserId)
    .map((p) => {
      const first = p.displayName.split(" ")[0]!;
      // Many people never set a display name; Slack then shows the real name.
      const display = prng.chance(0.4) ? "" : prng.chance(0.5) ? first : p.displayName;
      return {
        id: p.slackUserId!,
        name: p.email.split("@")[0]!,
        displayName: display,
        realName: p.displayName,
        email: p.email,
        isBot: false,
        person: p,
      };
    });
  const guests: Member[] = ["Robin Vale", "Sasha Petrenko", "Kai Moreno"].map((name) => ({
    id: `U0${prng.hex(8).toUpperCase()}`,
    name: name.toLowerCase().replace(" ", "."),
    displayName: name.split(" ")[0]!,
    realName: name,
    email: null,
    isBot: false,
    person: null,
  }));
  const bot: Member = {
    id: `U0${prng.hex(8).toUpperCase()}`,
    name: "earshot-bot",
    displayName: "",
    realName: "Earshot Releases",
    email: null,
    isBot: true,
    person: null,
  };
  const everyone = [...members, ...guests, bot];

  const staff = members.filter((m) => m.person?.isInternal);
  const channelSpecs: { name: string; purpose: string; members: Member[] }[] = [
    { name: "general", purpose: "Everything Earshot", members: [...members, ...guests, bot] },
    {
      name: "beta-feedback",
      purpose: "Tell us what works and what does not",
      members: [...staff, ...members.filter((m) => !m.person?.isInternal && prng.chance(0.4)), ...guests],
    },
    ...companies
      .filter((c) => c.company !== APP_COMPANY && c.slackGroup)
      .map((c) => ({
        name: c.slackGroup!,
        purpose: `Shared channel with ${c.company}`,
        members: [...staff, ...members.filter((m) => m.person?.canonicalCompany === c.company)],
      })),
  ];
  const created = Date.UTC(2024, 0, 2, 9);
  const channels = channelSpecs.map((spec, i) => ({
    id: `C0${prng.hex(8).toUpperCase()}`,
    name: spec.name,
    created: Math.floor((created + i * 3_600_000) / 1000),
    creator: staff[0]!.id,
    is_archived: false,
    is_general: spec.name === "general",
    members: spec.members.map((m) => m.id),
    topic: { value: "", creator: "", last_set: 0 },
    purpose: { value: spec.purpose, creator: staff[0]!.id, last_set: Math.floor(created / 1000) },
    spec,
  }));

  const byChannel = new Map<string, SlackMessage[]>(channels.map((c) => [c.name, []]));
  const sequence = new Map<string, number>();
  const ts = (channel: string, at: number): string => {
    const n = (sequence.get(channel) ?? 0) + 1;
    sequence.set(channel, n);
    return `${Math.floor(at / 1000)}.${String(n).padStart(6, "0")}`;
  };
  const manifest: SlackSampleManifest = {
    users: everyone.length,
    unmappedUserIds: guests.map((g) => g.id),
    botUserId: bot.id,
    channels: [],
    messages: 0,
    regular: 0,
    service: 0,
    botMessages: 0,
    threadReplies: 0,
    dayFiles: 0,
  };

  for (const channel of channels) {
    for (const [k, member] of channel.spec.members.entries()) {
      const at = channel.created * 1000 + k * 1000;
      byChannel.get(channel.name)!.push({
        user: member.id,
        type: "message",
        subtype: "channel_join",
        text: `<@${member.id}> has joined the channel`,
        ts: ts(channel.name, at),
      });
      manifest.service++;
    }
  }

  // Release notes from the bot, posted into #general on release days.
  for (const [date, version] of [
    ["2024-04-08", "3.1"],
    ["2024-08-05", "3.2"],
    ["2024-11-04", "4.0"],
  ] as const) {
    const at = Date.parse(`${date}T10:00:00Z`);
    byChannel.get("general")!.push({
      type: "message",
      subtype: "bot_message",
      bot_id: "B0RELEASES",
      username: "Earshot Releases",
      text: "",
      attachments: [
        {
          fallback: `Earshot ${version} is out: <https://earshot.example/releases/${version}|release notes> &amp; known issues`,
          color: "36a64f",
        },
      ],
      ts: ts("general", at),
    });
    manifest.botMessages++;
  }

  let written = 0;
  const talkers = channels.map((c) => c.spec.members.filter((m) => !m.isBot));
  while (written < options.messages) {
    const index = prng.weighted(
      channels.map((_, i) => i),
      channels.map((c, i) => (c.name === "general" ? 3 : 2) + talkers[i]!.length / 10),
    );
    const channel = channels[index]!;
    const voices = talkers[index]!;
    if (voices.length === 0) continue;
    const cast = [prng.pick(voices), prng.pick(voices), prng.pick(staff)];
    let at = workingMoment(prng);
    const burst = Math.min(options.messages - written, prng.int(2, 8));
    const thread = prng.chance(0.25);
    let parentTs: string | null = null;
    const replies: { user: string; ts: string }[] = [];
    let parent: SlackMessage | null = null;
    for (let i = 0; i < burst; i++) {
      const author = prng.pick(cast);
      const message: SlackMessage = {
        type: "message",
        user: author.id,
        text: textFor(prng, channel.spec.members, author),
        ts: ts(channel.name, at),
      };
      if (thread && parentTs) {
        message.thread_ts = parentTs;
        message.parent_user_id = parent!.user;
        replies.push({ user: author.id, ts: message.ts as string });
        manifest.threadReplies++;
      } else if (thread) {
        parentTs = message.ts as string;
        parent = message;
        message.thread_ts = parentTs;
      }
      if (prng.chance(0.15)) {
        const reactor = prng.pick(channel.spec.members);
        message.reactions = [{ name: prng.pick(["+1", "heart", "tada", "eyes", "joy"]), users: [reactor.id], count: 1 }];
      }
      if (prng.chance(0.05)) message.edited = { user: author.id, ts: `${Math.floor(at / 1000) + prng.int(10, 600)}.000000` };
      if (prng.chance(0.03)) {
        message.files = [
          {
            id: `F0${prng.hex(8).toUpperCase()}`,
            created: Math.floor(at / 1000),
            name: "screenshot.png",
            title: "screenshot",
            mimetype: "image/png",
            filetype: "png",
            size: prng.int(20_000, 900_000),
            user: author.id,
          },
        ];
      }
      byChannel.get(channel.name)!.push(message);
      manifest.regular++;
      written++;
      at += prng.int(20, 600) * 1000;
    }
    if (parent && replies.length > 0) {
      parent.reply_count = replies.length;
      parent.replies = replies;
    }
  }
  manifest.regular += manifest.botMessages;

  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "users.json"), json(everyone.map((m) => userJson(m))));
  writeFileSync(join(dir, "channels.json"), json(channels.map(({ spec, ...c }) => (void spec, c))));
  for (const channel of channels) {
    const messages = byChannel
      .get(channel.name)!
      .filter((m) => options.exportedAt === undefined || Number(m.ts) <= options.exportedAt)
      .sort((a, b) => Number(a.ts) - Number(b.ts));
    const days = new Map<string, SlackMessage[]>();
    for (const m of messages) {
      const day = new Date(Number(m.ts) * 1000).toISOString().slice(0, 10);
      days.set(day, [...(days.get(day) ?? []), m]);
    }
    mkdirSync(join(dir, channel.name), { recursive: true });
    // People's messages carry their team, as Slack's exports have since 2019; bots' do not.
    for (const [day, list] of days)
      writeFileSync(join(dir, channel.name, `${day}.json`), json(list.map((m) => (m.user ? { ...m, team: TEAM } : m))));
    manifest.dayFiles += days.size;
    manifest.channels.push({ id: channel.id, name: channel.name, members: channel.members.length, messages: messages.length });
    manifest.messages += messages.length;
  }
  return manifest;
}

/** A weekday moment in 2024 during someone's working hours (UTC 07:00–19:00). */
function workingMoment(prng: Prng): number {
  for (;;) {
    const day = Date.UTC(2024, 0, 3) + prng.int(0, 362) * DAY;
    const weekday = new Date(day).getUTCDay();
    if ((weekday === 0 || weekday === 6) && !prng.chance(0.15)) continue;
    return day + prng.int(7 * 3600, 19 * 3600) * 1000;
  }
}

/** Message text as Slack stores it: `&`, `<`, `>` escaped, mentions and links as `<…>` tokens. */
function textFor(prng: Prng, members: Member[], author: Member): string {
  let text = escapeText(chatter(prng, author.person).text);
  if (prng.chance(0.1)) {
    const other = prng.pick(members);
    if (other.id !== author.id && !other.isBot) text = `<@${other.id}> ${text}`;
  }
  if (prng.chance(0.05)) text += " see <https://help.earshot.example/articles/42|the help article>";
  if (prng.chance(0.03)) text = `<!here> ${text}`;
  return text;
}

function escapeText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function userJson(m: Member): Record<string, unknown> {
  const [first, ...last] = m.realName.split(" ");
  return {
    id: m.id,
    team_id: TEAM,
    name: m.name,
    deleted: false,
    real_name: m.realName,
    tz: "Europe/Berlin",
    is_bot: m.isBot,
    is_restricted: m.person === null && !m.isBot,
    profile: {
      display_name: m.displayName,
      real_name: m.realName,
      first_name: first,
      last_name: last.join(" "),
      ...(m.email ? { email: m.email } : {}),
    },
  };
}

/** Slack writes its JSON indented by four spaces and escapes `/` as `\/`. */
function json(value: unknown): string {
  return JSON.stringify(value, null, 4).replace(/\//g, "\\/") + "\n";
}
