import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { discoverExports } from "../../../loaders/telegram/discover.ts";
import { tempDir } from "../../util/tmp.ts";

function touch(path: string): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, "");
}

describe("discoverExports", () => {
  it("finds chat folders recursively and orders page files by number, not by name", async () => {
    const root = join(tempDir(), "DataExport_2024-01-07");
    for (const page of ["messages.html", "messages2.html", "messages10.html", "messages3.html"]) touch(join(root, "chats/chat_01", page));
    touch(join(root, "chats/chat_02/messages.html"));
    touch(join(root, "chats/chat_02/photos/photo_1.jpg"));
    touch(join(root, "export_results.html"));
    const sources = await discoverExports([root]);
    expect(sources.map((s) => (s.kind === "html" ? s.pages.map((p) => p.fileName) : []))).toEqual([
      [
        "DataExport_2024-01-07/chats/chat_01/messages.html",
        "DataExport_2024-01-07/chats/chat_01/messages2.html",
        "DataExport_2024-01-07/chats/chat_01/messages3.html",
        "DataExport_2024-01-07/chats/chat_01/messages10.html",
      ],
      ["DataExport_2024-01-07/chats/chat_02/messages.html"],
    ]);
  });

  it("names a single-chat export's pages by its folder's name, the same on every discovery", async () => {
    const dir = tempDir();
    touch(join(dir, "ChatExport_1/messages.html"));
    touch(join(dir, "ChatExport_2/messages.html"));
    const [a, b] = await discoverExports([join(dir, "ChatExport_1"), join(dir, "ChatExport_2")]);
    const [again] = await discoverExports([join(dir, "ChatExport_1")]);
    expect(a).toMatchObject({ kind: "html", pages: [{ fileName: "ChatExport_1/messages.html" }] });
    expect(b).toMatchObject({ kind: "html", pages: [{ fileName: "ChatExport_2/messages.html" }] });
    expect(again).toEqual(a);
  });

  it("prefers result.json where an export has both forms", async () => {
    const root = join(tempDir(), "DataExport_both");
    touch(join(root, "result.json"));
    touch(join(root, "chats/chat_1/messages.html"));
    expect(await discoverExports([root])).toMatchObject([{ kind: "json", file: { fileName: "DataExport_both/result.json" } }]);
  });

  it("tells the user when a folder is missing or holds no export", async () => {
    await expect(discoverExports([join(tempDir(), "nope")])).rejects.toThrow(/no such export directory/);
    await expect(discoverExports([tempDir()])).rejects.toThrow(/no Telegram export in .*: found no messages.html or result.json/);
  });
});
