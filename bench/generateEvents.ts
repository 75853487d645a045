import { copyFileSync, createWriteStream, writeFileSync } from "node:fs";
import { once } from "node:events";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { EVENT_TYPES } from "../loaders/sample/activity.ts";
import { createPrng } from "../loaders/sample/prng.ts";

const OS = ["ios", "android", "web", "macos", "windows"];
const COUNTRIES = ["DE", "FR", "GB", "US", "PL", "ES", "IT", "NL", "SE", "UA"];

/**
 * Writes `lines` product events as NDJSON (about 330 bytes a line) to `file`, deterministically
 * from `seed`. Returns the number of bytes written.
 */
export async function generateEvents(file: string, lines: number, seed = 42): Promise<number> {
  // Seeded, so every run writes the same bytes.
  const random = createPrng(seed).next;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const out = createWriteStream(file);
  const start = Date.UTC(2024, 0, 1);
  let bytes = 0;
  let batch: string[] = [];
  for (let i = 0; i < lines; i++) {
    const at = new Date(start + Math.floor(random() * 366 * 86_400_000)).toISOString();
    const event = {
      event_id: `evt_${i.toString(36).padStart(8, "0")}_${Math.floor(random() * 1e9).toString(36)}`,
      event: pick(EVENT_TYPES),
      user_id: `user_${Math.floor(random() * 400)}`,
      occurred_at: at,
      episode_id: `ep_${Math.floor(random() * 300)}`,
      position_seconds: Math.floor(random() * 5400),
      device: { os: pick(OS), app_version: `5.${Math.floor(random() * 9)}.${Math.floor(random() * 20)}`, country: pick(COUNTRIES) },
      properties: {
        bitrate_kbps: pick([64, 96, 128, 256]),
        offline: random() < 0.2,
        referrer: random() < 0.5 ? null : "https://example.com/share/" + Math.floor(random() * 1e6),
      },
      title: "Épisode " + Math.floor(random() * 300) + " — the long conversation about data “integrity”",
    };
    batch.push(JSON.stringify(event));
    if (batch.length === 10_000 || i === lines - 1) {
      const text = batch.join("\n") + "\n";
      bytes += Buffer.byteLength(text);
      if (!out.write(text)) await once(out, "drain");
      batch = [];
    }
  }
  out.end();
  await once(out, "finish");
  return bytes;
}

/**
 * `lines` GH-Archive-like events of about `width` bytes each (a PushEvent's nested commits), as
 * NDJSON text. Deterministic: the same arguments give the same bytes.
 */
export function wideEvents(lines: number, width: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const commits = Array.from({ length: Math.floor(width / 100) }, (_, k) => ({ sha: `${i}-${k}`, message: "x".repeat(70) }));
    out.push(JSON.stringify({ id: i, type: "PushEvent", payload: { commits } }));
  }
  return out.join("\n") + "\n";
}

/**
 * The directory of issue 16 into `dir`: ten 40 MB files of 10 KB lines, the real GH Archive
 * events (`gharchive`, a fixture path), a single 24 MB line, and a gzip of a wide file cut in
 * half, which a loader must name as failed: 40,005 lines land from the other 12 files.
 */
export function writeBigFilesDirectory(dir: string, gharchive: string): void {
  const wide = wideEvents(4000, 10_000);
  for (let i = 0; i < 10; i++) writeFileSync(join(dir, `wide-${i}.ndjson`), wide);
  copyFileSync(gharchive, join(dir, "gharchive.ndjson"));
  writeFileSync(join(dir, "single-24mb.ndjson"), JSON.stringify({ id: "big", blob: "y".repeat(24 * 2 ** 20) }) + "\n");
  const zipped = gzipSync(wide);
  writeFileSync(join(dir, "wide-5-truncated.ndjson.gz"), zipped.subarray(0, zipped.length / 2));
}
