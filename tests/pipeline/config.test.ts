import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../pipeline/config.ts";
import { duckform } from "../util/cli.ts";
import { tempDir } from "../util/tmp.ts";

const FILE = "/etc/duckform/duckform.yaml";

function errorOf(text: string): string {
  try {
    parseConfig(text, FILE);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the config to be rejected");
}

describe("duckform.yaml", () => {
  it("reads sources, paths relative to the file, enrichment limits, retention and the alert webhook", () => {
    const config = parseConfig(
      [
        "database: warehouse/duckform.duckdb",
        "publish: /srv/bi/gold.duckdb",
        "vars: { end_date: 2025-06-01, session_gap_minutes: 45 }",
        "sources:",
        "  - { kind: ndjson, paths: 'events/*.ndjson.gz', table: events, retention: { days: 365 } }",
        "  - { kind: telegram, paths: [exports/tg], timezone: Europe/Berlin }",
        "  - { kind: slack, paths: acme.zip, workspace: acme }",
        "  - { kind: postgres, pglite: product/product.sql }",
        "enrichment: { provider: openai, model: gpt-4o-mini, budget: $2, limits: { rpm: 60, concurrency: 2 } }",
        "alerts: { webhook: 'https://hooks.example.com/T000/B000' }",
      ].join("\n"),
      FILE,
    );
    expect(config.database).toBe("/etc/duckform/warehouse/duckform.duckdb");
    expect(config.publish).toBe("/srv/bi/gold.duckdb");
    expect(config.vars).toEqual({ end_date: "2025-06-01", session_gap_minutes: "45" });
    expect(config.sources).toEqual([
      { kind: "ndjson", paths: ["/etc/duckform/events/*.ndjson.gz"], table: "events", retention: { days: 365 } },
      { kind: "telegram", paths: ["/etc/duckform/exports/tg"], timezone: "Europe/Berlin" },
      { kind: "slack", paths: ["/etc/duckform/acme.zip"], workspace: "acme" },
      { kind: "postgres", pglite: "/etc/duckform/product/product.sql" },
    ]);
    expect(config.enrichment).toMatchObject({
      provider: "openai",
      model: "gpt-4o-mini",
      budget: "$2",
      embeddings: true,
      limits: { rpm: 60, concurrency: 2 },
    });
    expect(config.alerts?.webhook).toBe("https://hooks.example.com/T000/B000");
  });

  it("names the key path and the line of an unknown key, a wrong type, a missing key and a bad enum", () => {
    expect(errorOf("sources:\n  - kind: ndjson\n    paths: a\n    table: events\n    tabel: x\n")).toBe(
      `${FILE}:5: sources[0].tabel: unknown key "tabel"`,
    );
    expect(errorOf("database: x.duckdb\nenrichment:\n  limits:\n    rpm: fast\n")).toBe(
      `${FILE}:4: enrichment.limits.rpm: Invalid input: expected number, received string`,
    );
    expect(errorOf("sources:\n  - kind: ndjson\n    paths: a\n")).toMatch(new RegExp(`^${FILE}:2: sources\\[0\\]\\.table: `));
    expect(errorOf("enrichment:\n  provider: claude\n")).toMatch(new RegExp(`^${FILE}:2: enrichment\\.provider: .*"local"`));
    expect(errorOf("retention: 30\n")).toBe(`${FILE}:1: retention: unknown key "retention"`);
    expect(errorOf("alerts:\n  webhook: not a url\n")).toMatch(new RegExp(`^${FILE}:2: alerts\\.webhook: `));
    expect(errorOf("sources:\n  - kind: postgres\n    tables: [messages]\n")).toBe(
      `${FILE}:2: sources[0]: give either url or pglite, not both or neither`,
    );
    expect(errorOf("sources: [\n")).toMatch(new RegExp(`^${FILE}:\\d+: not valid YAML`));
  });

  it("exits 2 with a message naming the key for an unknown key, a wrong type and a bad end_date, before opening any database", async () => {
    const dir = tempDir();
    const cases: [string, RegExp][] = [
      [
        "database: w/x.duckdb\nsources:\n  - kind: slack\n    paths: a.zip\n    workspce: acme\n",
        /duckform\.yaml:5: sources\[0\]\.workspce: unknown key "workspce"/,
      ],
      [
        "database: w/x.duckdb\nenrichment:\n  embeddings: yes please\n",
        /duckform\.yaml:3: enrichment\.embeddings: Invalid input: expected boolean, received string/,
      ],
      [
        "database: w/x.duckdb\nvars:\n  end_date: 2024-02-30\n",
        /var end_date = "2024-02-30" \(.*duckform\.yaml:3\) is not a date, YYYY-MM-DD/,
      ],
    ];
    for (const [text, message] of cases) {
      writeFileSync(join(dir, "duckform.yaml"), text);
      const r = await duckform(["pipeline", ".", "--config", join(dir, "duckform.yaml")]);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
    }
    const r = await duckform(["pipeline", ".", "--database", join(dir, "w", "x.duckdb"), "--vars", "session_gap_minutes=-5"]);
    expect(r.stderr).toContain('var session_gap_minutes = "-5" (--vars) is not a whole number of minutes ≥ 1');
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, "w"))).toBe(false);
  });
});
