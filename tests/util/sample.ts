import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { TINY_SAMPLE, generateSample, type SampleManifest } from "../../loaders/sample/generate.ts";

let tiny: Promise<{ dir: string; manifest: SampleManifest }> | undefined;
let made: string | undefined;

afterAll(() => {
  if (made) rmSync(made, { recursive: true, force: true });
});

/**
 * The tiny sample dataset (`duckform generate-sample --tiny`, TINY_SAMPLE): 400 valid events in 78 files with
 * one of each planted defect, 3 duplicates and 3 late events; 40 Slack messages; 6 Telegram company groups of ~12
 * messages and 1 generated chat.
 * Generated once per test file into the OS temp dir and shared; treat it as read-only.
 */
export function tinySample(): Promise<{ dir: string; manifest: SampleManifest }> {
  tiny ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "duckform-sample-"));
    made = dir;
    return { dir, manifest: await generateSample(dir, TINY_SAMPLE) };
  })();
  return tiny;
}
