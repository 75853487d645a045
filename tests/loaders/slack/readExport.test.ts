import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Zip, ZipDeflate, strToU8, unzipSync, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { loadSlack } from "../../../loaders/slack/load.ts";
import { UserError } from "../../../runner/errors.ts";
import { timedDuckform } from "../../util/cli.ts";
import { queryRows, tempDatabase, tempDir } from "../../util/tmp.ts";

const repo = resolve(import.meta.dirname, "../../..");
const archive = resolve(repo, "../shared/fixtures/slack-export-viewer-testarchive.zip");
const realEntries = unzipSync(readFileSync(archive));

const cli = (args: string[]) => timedDuckform(["load", "slack", ...args]);

/** The real 2016 export plus `extra` entries, written as one zip. */
function exportZip(dir: string, extra: Record<string, Uint8Array>): string {
  const path = join(dir, "export.zip");
  writeFileSync(path, zipSync({ ...realEntries, ...extra }));
  return path;
}

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at |node:internal|triggerUncaughtException/);

describe("a Slack zip that cannot be read", () => {
  it("is one error naming the file when it is not a zip, or is cut short", async () => {
    const dir = tempDir();
    const notZip = join(dir, "slack-export.zip");
    writeFileSync(notZip, "<html>a download page, not the export</html>");
    const truncated = join(dir, "truncated.zip");
    const whole = readFileSync(archive);
    writeFileSync(truncated, whole.subarray(0, whole.length - 200));
    const db = await tempDatabase();
    await expect(loadSlack(db, notZip)).rejects.toThrow(UserError);
    await expect(loadSlack(db, notZip)).rejects.toThrow(
      `cannot read ${notZip} as a zip archive: End of central directory record signature not found. Either not a zip file, or file is truncated.`,
    );
    await expect(loadSlack(db, truncated)).rejects.toThrow(`cannot read ${truncated} as a zip archive: `);

    const run = cli([truncated, "--database", join(dir, "cli.duckdb")]);
    expect(run.status).toBe(1);
    noStack(run.stderr);
    expect(run.stderr).toMatch(/^duckform: cannot read .*truncated\.zip as a zip archive: [^\n]+\n$/);
  });
});

describe("limits on what a zip inflates to", () => {
  it("fails a 1 GiB-style bomb entry by its size while every real message lands, in bounded memory", { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const path = join(dir, "bomb.zip");
    // 300 MiB of zeros deflates to 300 KB: streamed into the zip, never held whole.
    const parts: Uint8Array[] = [];
    const zip = new Zip((error, chunk) => {
      if (error) throw error;
      parts.push(chunk);
    });
    for (const [name, bytes] of Object.entries(realEntries)) {
      const entry = new ZipDeflate(name);
      zip.add(entry);
      entry.push(bytes, true);
    }
    const bomb = new ZipDeflate("general/2016-06-01.json", { level: 1 });
    zip.add(bomb);
    const zeros = new Uint8Array(1 << 20);
    for (let i = 0; i < 300; i++) bomb.push(zeros, i === 299);
    zip.end();
    writeFileSync(path, Buffer.concat(parts));

    const database = join(dir, "bomb.duckdb");
    const run = cli([path, "--database", database]);
    expect(run.status).toBe(1);
    noStack(run.stderr);
    expect(run.stderr).toBe(
      `duckform: failed ${path}!/general/2016-06-01.json: it inflates to 314,572,800 bytes (300.0 MiB), ` +
        "over the 256.0 MiB limit for one file (--max-entry-size); a rerun retries it\n",
    );
    expect(run.stdout).toMatch(/^load slack: files 19 landed, 0 skipped, 0 refused, 1 failed; 164 rows landed/);
    expect(run.peakMb).toBeLessThan(400);
  });

  it("fails an entry that inflates past the size its header declares", async () => {
    const dir = tempDir();
    const zip = Buffer.from(zipSync({ ...realEntries, "general/2016-06-01.json": new Uint8Array(100_000) }));
    // Declare 1,000 bytes for the last entry, in its local header and in the central directory.
    const local = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    const central = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    zip.writeUInt32LE(1000, local + 22);
    zip.writeUInt32LE(1000, central + 24);
    const path = join(dir, "lying.zip");
    writeFileSync(path, zip);
    const db = await tempDatabase();
    const results = await loadSlack(db, path);
    const failed = results.filter((r) => r.status === "failed");
    expect(failed.map((r) => r.fileName)).toEqual(["T0BMHLSRH/general/2016-06-01.json"]);
    expect(failed[0]!.error).toMatch(/general\/2016-06-01\.json: cannot inflate it: too many bytes in the stream/);
    expect(await queryRows(db, "select count(*)::int as n from raw.slack_messages")).toEqual([{ n: 158 }]);
  });

  it("leaves out an entry whose path leaves the archive, and says so", async () => {
    const dir = tempDir();
    const path = exportZip(dir, { "../../etc/evil.json": strToU8("[]"), "/abs.json": strToU8("[]") });
    const db = await tempDatabase();
    const warnings: string[] = [];
    const results = await loadSlack(db, path, { onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([
      `skipped ${path}!/../../etc/evil.json: invalid relative path: ../../etc/evil.json; left out`,
      `skipped ${path}!//abs.json: absolute path: /abs.json; left out`,
    ]);
    expect(results.every((r) => !r.fileName.includes("evil") && !r.fileName.includes("abs"))).toBe(true);
    expect(results.filter((r) => r.status === "landed")).toHaveLength(19);
  });

  it("honours --max-archive-size across entries", async () => {
    const db = await tempDatabase();
    const results = await loadSlack(db, archive, { limits: { maxArchiveBytes: 20_000 } });
    const failed = results.filter((r) => r.status === "failed");
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.error).toMatch(/inflates past the 19\.5 KiB limit for one archive \(--max-archive-size\) before this entry$/);
    expect(results.filter((r) => r.status === "landed").length + failed.length).toBe(19);
  });
});
