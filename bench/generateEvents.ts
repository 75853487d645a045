import { createWriteStream } from "node:fs";
import { once } from "node:events";
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
