import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TINY_SAMPLE, generateSample, type SampleManifest } from "../../loaders/sample.ts";

let tiny: Promise<{ dir: string; manifest: SampleManifest }> | undefined;

/**
 * The tiny sample dataset (`duckform generate-sample --tiny`, TINY_SAMPLE): 400 valid events in 78 files with
 * one of each planted defect and 3 duplicates and 3 late events, 40 Slack messages, 2 Telegram chats.
 * Generated once per test file into the OS temp dir and shared; treat it as read-only.
 */
export function tinySample(): Promise<{ dir: string; manifest: SampleManifest }> {
  tiny ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "duckform-sample-"));
    return { dir, manifest: await generateSample(dir, TINY_SAMPLE) };
  })();
  return tiny;
}
