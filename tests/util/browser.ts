import { existsSync } from "node:fs";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { tempDir } from "./tmp.ts";

/** Debian's chromium, which .ci/run installs; playwright-core downloads no browser of its own. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * A headless chromium with a fresh profile and its own background traffic switched off, so any
 * request it makes comes from the page. Close it in `finally`.
 */
export async function launchChromium(): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  return chromium.launchPersistentContext(join(tempDir("duckform-chromium-"), "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
