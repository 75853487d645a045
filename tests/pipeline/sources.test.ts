import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../pipeline/config.ts";
import { loadSource } from "../../pipeline/stages.ts";
import { startPostgres } from "../util/postgres.ts";
import { tempDir } from "../util/tmp.ts";

const FILE = "/etc/duckform/duckform.yaml";
const FIXTURES = resolve(import.meta.dirname, "..", "fixtures");

describe("duckform.yaml's calendar, hubspot and postgres sources", () => {
  it("are read with their paths relative to the file, and a postgres URL with a password is refused naming its line", () => {
    const config = parseConfig(
      [
        "sources:",
        "  - { kind: calendar, paths: exports/takeout.zip, horizon: 2026-01-01 }",
        "  - { kind: hubspot, name: crm, paths: [exports/hubspot] }",
        "  - { kind: postgres, url: 'postgres://analytics@db.internal:5432/product', tables: [messages], cursor: updated_at }",
      ].join("\n"),
      FILE,
    );
    expect(config.sources).toEqual([
      { kind: "calendar", paths: ["/etc/duckform/exports/takeout.zip"], horizon: "2026-01-01" },
      { kind: "hubspot", name: "crm", paths: ["/etc/duckform/exports/hubspot"] },
      { kind: "postgres", url: "postgres://analytics@db.internal:5432/product", tables: ["messages"], cursor: "updated_at" },
    ]);
    expect(() => parseConfig("sources:\n  - { kind: postgres, url: 'postgres://analytics:hunter2@db/product' }\n", FILE)).toThrow(
      /^\/etc\/duckform\/duckform\.yaml:2: sources\[0\]\.url: a postgres:\/\/ URL without a password \(the password is \$PGPASSWORD\)/,
    );
  });

  it("land through the pipeline's load stage", async () => {
    const project = tempDir();
    writeFileSync(join(project, "dataform.json"), JSON.stringify({ defaultDatabase: "duckform" }));
    const database = join(project, "duckform.duckdb");
    const server = await startPostgres();
    await server.pg.exec(
      `insert into user_actions values ('00000000-0000-0000-0000-000000000001', 'user_0001', 'share', '{}', '2024-03-01 10:00:00')`,
    );
    const calendar = await loadSource(project, database, { kind: "calendar", paths: [join(FIXTURES, "calendar-exports")] });
    expect(calendar).toMatchObject({ files: 3, landed: 3, rowsLanded: 9, rowsQuarantined: 1, problems: [] });
    const hubspot = await loadSource(project, database, { kind: "hubspot", paths: [join(FIXTURES, "hubspot-exports")] });
    expect(hubspot).toMatchObject({ files: 4, landed: 4, rowsLanded: 11, rowsQuarantined: 1, problems: [] });
    const postgres = await loadSource(project, database, { kind: "postgres", url: server.url, tables: ["user_actions"] });
    expect(postgres).toMatchObject({ files: 1, landed: 1, rowsLanded: 1, problems: [] });
    expect(await loadSource(project, database, { kind: "postgres", url: server.url, tables: ["user_actions"] })).toMatchObject({
      files: 0,
      rowsLanded: 0,
    });
  }, 60_000);
});
