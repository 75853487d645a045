import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseJsonExport } from "../../../loaders/telegram/json.ts";
import type { TelegramMessage } from "../../../loaders/telegram/message.ts";
import { timezoneConverter } from "../../../loaders/telegram/timezone.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures/telegram");

function parse(path: string, timezone?: string) {
  const records = parseJsonExport(readFileSync(join(FIXTURES, path), "utf8"), timezoneConverter(timezone));
  const messages = records.filter((r) => r.json).map((r) => JSON.parse(r.json!) as TelegramMessage);
  return { records, messages, byId: new Map(messages.map((m) => [m.message_id, m])) };
}

describe("parseJsonExport", () => {
  const chat = parse("json-chat/ChatExport_2024-01-10/result.json");

  it("reads a single-chat export with the chat's id and name", () => {
    expect(chat.messages.map((m) => m.message_id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(chat.byId.get(2)).toMatchObject({
      chat_id: "1234567890",
      chat_name: "Podcast Club",
      author: "Anna Ivanova",
      author_id: "user111",
    });
  });

  it("takes the time from date_unixtime, a string", () => {
    expect(chat.byId.get(2)!.sent_at).toBe("2024-01-05T07:00:30.000Z");
  });

  it("joins text given as an array of plain strings and entity parts", () => {
    expect(chat.byId.get(2)!.text).toBe("Hello & welcome\nsecond line");
    expect(chat.byId.get(3)!.text).toBe("Bold and a link @boris");
  });

  it("reads replies, reactions, via bot without its @, and an old numeric from_id", () => {
    expect(chat.byId.get(3)).toMatchObject({ reply_to_message_id: 2, reactions: [{ type: "emoji", emoji: "👍", count: 2 }] });
    expect(chat.byId.get(4)).toMatchObject({ via_bot: "gif", author_id: "user222", media_type: "animation" });
  });

  it("keeps a deleted author as Deleted Account and reads forwards and photos", () => {
    expect(chat.byId.get(5)).toMatchObject({ author: "Deleted Account", forwarded_from: "Original Author", media_type: "photo" });
  });

  it("lands a phone call as a service message by its actor, with call media", () => {
    expect(chat.byId.get(6)).toMatchObject({ type: "service", author: "Boris", media_type: "phone_call" });
    expect(chat.byId.get(1)).toMatchObject({ type: "service", author: "Anna Ivanova" });
  });

  it("lands every service message as service, whatever its action", () => {
    // The actions export_output_json.cpp writes for service messages.
    const actions = [
      "create_group",
      "edit_group_title",
      "edit_group_photo",
      "delete_group_photo",
      "invite_members",
      "remove_members",
      "join_group_by_link",
      "migrate_to_supergroup",
      "migrate_from_group",
      "pin_message",
      "clear_history",
      "score_in_game",
      "send_payment",
      "phone_call",
      "group_call",
      "invite_to_group_call",
      "set_messages_ttl",
      "edit_chat_theme",
      "topic_created",
      "requested_phone_number",
      "bot_allowed",
      "secure_values_sent",
      "contact_signup",
      "set_chat_wallpaper",
      "boost_apply",
    ];
    const messages = actions.map((action, i) => ({
      id: i + 1,
      type: "service",
      date: "2024-01-05T10:00:00",
      date_unixtime: "1704448800",
      actor: "Anna",
      actor_id: "user1",
      action,
      text: "",
    }));
    const records = parseJsonExport(JSON.stringify({ name: "Club", type: "private_supergroup", id: 42, messages }), timezoneConverter());
    const landed = records.map((r) => JSON.parse(r.json!) as TelegramMessage);
    expect(landed.map((m) => [m.message_id, m.type, m.author])).toEqual(actions.map((_, i) => [i + 1, "service", "Anna"]));
  });

  it("quarantines a message whose date cannot be read, keeping its JSON", () => {
    const bad = chat.records.filter((r) => r.error);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ line: 7, error: expect.stringMatching(/^unparseable date/) });
    expect(JSON.parse(bad[0]!.raw!)).toMatchObject({ id: 7, text: "broken date" });
  });

  it("reads every chat of a whole-account export, left chats included", () => {
    const account = parse("json-account/DataExport_2024-01-10/result.json", "Europe/Moscow");
    expect(account.messages.map((m) => [m.chat_id, m.message_id])).toEqual([
      ["222", 10],
      ["222", 11],
      ["111", 20],
      ["999", 5],
    ]);
    expect(account.byId.get(20)).toMatchObject({ chat_name: "Saved messages", author_id: "user111", sent_at: "2021-03-01T09:00:00.000Z" });
    expect(account.byId.get(11)!.media_type).toBe("voice_message");
    expect(account.byId.get(5)).toMatchObject({ chat_name: "Old Channel", author_id: "channel999", media_type: "poll" });
  });

  it("quarantines a result.json that is not JSON as one record", () => {
    expect(parseJsonExport('{"messages": [', timezoneConverter())).toMatchObject([
      { line: 1, error: expect.stringMatching(/not valid JSON/) },
    ]);
  });
});
