import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { loadNdjson } from "../../loaders/ndjson/load.ts";
import { Database } from "../../runner/database.ts";
import { launchChromium } from "../util/browser.ts";
import { duckform } from "../util/cli.ts";
import { copyFixture } from "../util/project.ts";
import { tempDir } from "../util/tmp.ts";
import { landedWarehouse } from "../util/warehouse.ts";

const OUTPUT = resolve(import.meta.dirname, "..", "..", "test-output");

describe("duckform report", () => {
  it("shows a failing assertion with its rows from every run, the lineage, a model's SQL and columns, and a searchable catalog, offline", async () => {
    const { dir, file } = await landedWarehouse();
    expect((await duckform(["run", dir, "--database", file])).code).toBe(0);
    // An event for an episode nobody published: interactions_without_episode fails, twice in a row.
    const planted = join(tempDir(), "planted.ndjson");
    writeFileSync(
      planted,
      JSON.stringify({
        event_id: "planted-1",
        user_id: "user_0001",
        event_type: "play",
        occurred_at: "2024-06-01T12:00:00Z",
        episode_id: "ep_9999",
      }) + "\n",
    );
    const db = await Database.open(file, "duckform");
    try {
      await loadNdjson(db, [planted], { table: "events" });
    } finally {
      db.close();
    }
    expect((await duckform(["run", dir, "--database", file])).code).toBe(1);
    expect((await duckform(["run", dir, "--database", file])).code).toBe(1);
    const last = JSON.parse(readFileSync(join(dir, "run_results.json"), "utf8")) as {
      actions: { name: string; type: string; status: string }[];
    };
    const failedNames = last.actions.filter((a) => a.type === "assertion" && a.status === "failed").map((a) => a.name);
    expect(failedNames).toContain("duckform.quality.interactions_without_episode");

    const out = join(tempDir(), "out", "report.html");
    const written = await duckform(["report", dir, "--database", file, "--out", out]);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toContain(`Report written to ${out}`);
    expect(readdirSync(join(out, ".."))).toEqual(["report.html"]);
    expect(statSync(out).size).toBeLessThan(5e6);

    const url = pathToFileURL(out).href;
    const context = await launchChromium();
    const requests: string[] = [];
    const errors: string[] = [];
    try {
      context.on("request", (request) => {
        if (request.url() !== url && !request.url().startsWith(`${url}#`) && !request.url().startsWith("data:"))
          requests.push(request.url());
      });
      const page = await context.newPage();
      page.on("pageerror", (error) => errors.push(String(error)));
      page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
      await page.goto(url);
      await expect.poll(() => page.locator("header").innerText()).toContain(`${failedNames.length} assertions failing`);
      expect(await page.locator("#summary canvas").count()).toBe(3);
      mkdirSync(OUTPUT, { recursive: true });
      await page.screenshot({ path: join(OUTPUT, "report-summary.png"), fullPage: true });

      await page.click("nav a[href='#assertions']");
      // Failures come first, each open.
      const cards = page.locator("details.assertion");
      const failing = page.locator("details.assertion.failed[open]");
      // The section renders on navigation: poll, as a loaded machine may take a moment.
      await expect.poll(() => failing.count()).toBe(failedNames.length);
      for (let i = 0; i < failedNames.length; i++) expect(await cards.nth(i).getAttribute("class")).toContain("failed");
      const card = page.locator("details.assertion[data-assertion='duckform.quality.interactions_without_episode']");
      expect(await card.getAttribute("class")).toContain("failed");
      expect(await card.innerText()).toContain("failed 2 runs in a row");
      // Failing rows are kept per run, not overwritten: both failing runs show the planted event.
      const tables = card.locator("table.failing-rows");
      expect(await tables.count()).toBe(2);
      for (const text of await tables.allInnerTexts()) expect(text).toMatch(/planted-1\s+ep_9999/);
      expect(await card.locator("pre.sql").innerText()).toContain("gold");

      await page.click("nav a[href='#lineage']");
      const nodes = page.locator("svg.lineage g.node");
      expect(await nodes.count()).toBeGreaterThanOrEqual(40);
      // Find it from the graph's box (it moves into view), then click it.
      await page.fill("input[aria-label='Find an action']", "gold.fct_user_interactions");
      await page.press("input[aria-label='Find an action']", "Enter");
      await page.click("svg.lineage g.node[data-name='duckform.gold.fct_user_interactions']");
      const details = page.locator("aside.panel .details");
      await expect.poll(() => details.getAttribute("data-action")).toBe("duckform.gold.fct_user_interactions");
      expect(await details.locator("pre.sql").innerText()).toMatch(/from "silver"\."int_events__deduplicated"/);
      const columns = await details.locator("table.columns").innerText();
      expect(columns).toMatch(/event_id\s+VARCHAR/);
      expect(columns).toMatch(/interaction_date\s+DATE|_date\s+DATE/);
      expect(await details.innerText()).toContain("Assertions (");

      await page.click("nav a[href='#catalog']");
      await page.fill("#catalog-search", "listened_seconds");
      const rows = page.locator("table.catalog tbody tr");
      expect(await rows.count()).toBeGreaterThanOrEqual(2);
      for (const text of await rows.allInnerTexts()) expect(text).toContain("listened_seconds");
      // A column lists the tests that check it.
      await page.fill("#catalog-search", "gold.fct_user_interactions event_id");
      expect(await page.locator("table.catalog tr.column-row", { hasText: "event_id" }).first().innerText()).toMatch(
        /event_id\s+VARCHAR.*uniqueKey/s,
      );
      await page.fill("#catalog-search", "no such column anywhere");
      expect(await rows.count()).toBe(0);

      await page.click("nav a[href='#lineage']");
      await page.screenshot({ path: join(OUTPUT, "report-lineage.png"), fullPage: true });
      await page.click("nav a[href='#assertions']");
      await page.screenshot({ path: join(OUTPUT, "report-assertions.png") });
    } finally {
      await context.close();
    }
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
  }, 120_000);

  it("--open serves the report on 127.0.0.1 and prints the URL", async () => {
    const dir = copyFixture("views");
    expect((await duckform(["run", dir])).code).toBe(0);
    const server = spawn(process.execPath, [resolve(import.meta.dirname, "../../bin/duckform.js"), "report", dir, "--open"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      let output = "";
      for await (const chunk of server.stdout!) {
        output += chunk;
        if (/Serving the report at \S+/.test(output)) break;
      }
      expect(output).toContain(`Report written to ${join(dir, "report.html")}`);
      const url = output.match(/Serving the report at (http:\/\/127\.0\.0\.1:\d+\/report\.html)/)![1];
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(readFileSync(join(dir, "report.html"), "utf8"));
    } finally {
      server.kill();
    }
  });
});
