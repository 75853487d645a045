import { describe, expect, it } from "vitest";
import { landDocuments, type SourceDocument, type SourceRecord } from "../../loaders/land.ts";
import { queryRows, tempDatabase } from "../util/tmp.ts";

function doc(fileName: string, records: SourceRecord[], sha256 = `sha-of-${fileName}`): SourceDocument {
  return { path: `/exports/${fileName}`, fileName, sha256, bytes: 100, lines: records.length, records };
}

const messages = [
  { line: 1, json: '{"id":1,"text":"hello"}' },
  { line: 2, json: '{"id":2,"text":"world"}' },
];

describe("landDocuments", () => {
  it("lands each record's JSON with its file and line, and writes one ledger row per file", async () => {
    const db = await tempDatabase();
    const results = await landDocuments(db, "chat", [doc("a.json", messages)], { loadId: "load-1" });
    expect(results).toEqual([{ fileName: "a.json", path: "/exports/a.json", status: "landed", rowsLanded: 2, rowsQuarantined: 0 }]);
    const rows = await queryRows(db, "select payload::varchar as payload, _file, _line, _load_id from raw.chat order by _line");
    expect(rows).toEqual([
      { payload: '{"id":1,"text":"hello"}', _file: "a.json", _line: 1, _load_id: "load-1" },
      { payload: '{"id":2,"text":"world"}', _file: "a.json", _line: 2, _load_id: "load-1" },
    ]);
    const ledger = await queryRows(db, "select source_table, file_name, file_path, rows_landed, status from raw.load_ledger");
    expect(ledger).toEqual([{ source_table: "chat", file_name: "a.json", file_path: "/exports/a.json", rows_landed: 2, status: "landed" }]);
  });

  it("quarantines records that carry an error, are not valid JSON, or are not an object", async () => {
    const db = await tempDatabase();
    const [result] = await landDocuments(db, "chat", [
      doc("b.json", [
        { line: 1, json: '{"ok":true}' },
        { line: 2, raw: "<div>broken", error: "message without an id" },
        { line: 3, json: '{"cut":' },
        { line: 4, json: "[1,2]" },
      ]),
    ]);
    expect(result).toMatchObject({ status: "landed", rowsLanded: 1, rowsQuarantined: 3 });
    const quarantine = await queryRows(db, "select source_table, _file, _line, raw_line, error from raw.quarantine order by _line");
    expect(quarantine).toEqual([
      { source_table: "chat", _file: "b.json", _line: 2, raw_line: "<div>broken", error: "message without an id" },
      { source_table: "chat", _file: "b.json", _line: 3, raw_line: '{"cut":', error: "invalid JSON: truncated (unclosed object or array)" },
      { source_table: "chat", _file: "b.json", _line: 4, raw_line: "[1,2]", error: "not a JSON object: the line holds an array" },
    ]);
  });

  it("gives a record the quarantine reason the NDJSON loader gives the same line, and lands one with a byte-order mark without it", async () => {
    const db = await tempDatabase();
    await landDocuments(db, "chat", [
      doc("c.json", [
        { line: 1, json: '{"a":1} {"b":2}' },
        { line: 2, json: '{"a":1} tail' },
        { line: 3, json: '"text"' },
        { line: 4, json: '\uFEFF{"bom":true}' },
        { line: 5, json: "  " },
      ]),
    ]);
    expect(await queryRows(db, "select _line, error from raw.quarantine order by _line")).toEqual([
      { _line: 1, error: "more than one JSON value on the line" },
      { _line: 2, error: "trailing content after the JSON value" },
      { _line: 3, error: "not a JSON object: the line holds a string" },
      { _line: 5, error: "no JSON and no error given" },
    ]);
    expect(await queryRows(db, "select _line, payload::varchar as payload from raw.chat")).toEqual([{ _line: 4, payload: '{"bom":true}' }]);
  });

  it("skips a file landed before with the same content, adding no rows", async () => {
    const db = await tempDatabase();
    await landDocuments(db, "chat", [doc("a.json", messages)]);
    const [again] = await landDocuments(db, "chat", [doc("a.json", messages)]);
    expect(again).toMatchObject({ status: "skipped", rowsLanded: 0, rowsQuarantined: 0 });
    expect(await queryRows(db, "select count(*)::int as n from raw.chat")).toEqual([{ n: 2 }]);
  });

  it("refuses a changed file with an error naming it, without holding back the rest of the batch", async () => {
    const db = await tempDatabase();
    await landDocuments(db, "chat", [doc("a.json", messages, "sha-1")]);
    const results = await landDocuments(db, "chat", [
      doc("a.json", [{ line: 1, json: '{"id":9}' }], "sha-2"),
      doc("c.json", [{ line: 1, json: '{"id":3}' }]),
    ]);
    expect(results[0]).toMatchObject({ status: "refused", rowsLanded: 0 });
    expect(results[0].error).toMatch(/a\.json was already landed into raw\.chat with different content.*--replace/);
    expect(results[1]).toMatchObject({ status: "landed", rowsLanded: 1 });
    const rows = await queryRows(db, "select _file, count(*)::int as n from raw.chat group by _file order by _file");
    expect(rows).toEqual([
      { _file: "a.json", n: 2 },
      { _file: "c.json", n: 1 },
    ]);
  });

  it("replaces a changed file's rows and quarantine when asked to", async () => {
    const db = await tempDatabase();
    await landDocuments(db, "chat", [
      doc("a.json", [...messages, { line: 3, raw: "junk", error: "bad" }], "sha-1"),
      doc("other.json", messages, "sha-o"),
    ]);
    const [result] = await landDocuments(db, "chat", [doc("a.json", [{ line: 1, json: '{"id":9}' }], "sha-2")], {
      replace: true,
    });
    expect(result).toMatchObject({ status: "replaced", rowsLanded: 1, rowsQuarantined: 0 });
    expect(await queryRows(db, "select _file, payload::varchar as p from raw.chat where _file = 'a.json'")).toEqual([
      { _file: "a.json", p: '{"id":9}' },
    ]);
    expect(await queryRows(db, "select count(*)::int as n from raw.chat where _file = 'other.json'")).toEqual([{ n: 2 }]);
    expect(await queryRows(db, "select count(*)::int as n from raw.quarantine")).toEqual([{ n: 0 }]);
    // The replacement is now the content on record: landing it again is a skip.
    const [again] = await landDocuments(db, "chat", [doc("a.json", [{ line: 1, json: '{"id":9}' }], "sha-2")]);
    expect(again.status).toBe("skipped");
  });

  it("lands thousands of small files in one call within a few seconds", async () => {
    const db = await tempDatabase();
    const docs = Array.from({ length: 4000 }, (_, f) =>
      doc(
        `chat_${f}/messages.html`,
        Array.from({ length: 20 }, (_, m) => ({ line: m + 1, json: JSON.stringify({ id: m, chat: f, text: "x".repeat(80) }) })),
      ),
    );
    const started = performance.now();
    const results = await landDocuments(db, "telegram_messages", docs);
    const seconds = (performance.now() - started) / 1000;
    expect(results.filter((r) => r.status === "landed")).toHaveLength(4000);
    expect(await queryRows(db, "select count(*)::int as n from raw.telegram_messages")).toEqual([{ n: 80000 }]);
    expect(seconds).toBeLessThan(5);
  });

  it("rejects a table name that is not a plain identifier or is reserved", async () => {
    const db = await tempDatabase();
    await expect(landDocuments(db, "bad name", [])).rejects.toThrow(/plain name/);
    await expect(landDocuments(db, "quarantine", [])).rejects.toThrow(/reserved/);
  });
});
