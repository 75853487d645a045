import { describe, expect, it } from "vitest";
import { runProject } from "../../runner/run.ts";
import { duckform } from "../util/cli.ts";
import { sqlRows } from "../util/project.ts";
import { landedWarehouse } from "../util/warehouse.ts";

interface Row {
  stage: string;
  source: string;
  file: string;
  line: number;
  reason: string;
  loadId: string;
}

describe("duckform rejected", () => {
  it("lists every landed line that did not reach silver, quarantined, invalid or a duplicate, each with its file, line, reason and load; --reason and --file filter", async () => {
    const { dir, file } = await landedWarehouse();
    const run = await runProject(dir, { database: file, warn: () => undefined });
    expect(run.status).toBe("success");

    const all = await duckform(["rejected", dir, "--database", file, "--json"]);
    expect(all.code).toBe(0);
    const rows = JSON.parse(all.stdout) as Row[];
    const by = (stage: string) => rows.filter((r) => r.stage === stage);
    // The tiny sample's planted defects: two unparseable lines, six invalid events, three duplicates.
    expect(by("load").map((r) => r.reason)).toEqual(["invalid JSON: unterminated string", "trailing content after the JSON value"]);
    expect(
      by("validation")
        .map((r) => r.reason)
        .sort(),
    ).toEqual(["bad_timestamp", "missing_event_id", "negative_duration", "timestamp_out_of_range", "unknown_event_type", "unknown_user"]);
    expect(by("deduplication")).toHaveLength(3);
    for (const r of rows) {
      expect(r.source).toBe("events");
      expect(r.file).toMatch(/\.ndjson$/);
      expect(r.line).toBeGreaterThan(0);
      expect(r.loadId).toMatch(/^[0-9a-f-]{36}$/);
    }
    // The counts agree with the layers they come from.
    const [counts] = await sqlRows(
      file,
      `select (select count(*) from raw.quarantine) as quarantined,
              (select count(*) from bronze.stg_events__product_events where not is_valid) as invalid,
              (select count(*) from bronze.stg_events__product_events where is_valid)
                - (select count(*) from silver.int_events__deduplicated) as duplicates`,
      "duckform",
    );
    expect(counts).toEqual({ quarantined: 2, invalid: 6, duplicates: 3 });
    // Each duplicate is a line whose event silver holds from another line.
    for (const d of by("deduplication")) {
      const [kept] = await sqlRows(
        file,
        `select s._file, s._line from bronze.stg_events__product_events b join silver.int_events__deduplicated s using (event_id)
         where b._file = '${d.file}' and b._line = ${d.line}`,
        "duckform",
      );
      expect(kept).toBeDefined();
      expect(`${kept._file}:${kept._line}`).not.toBe(`${d.file}:${d.line}`);
    }

    const unknown = await duckform(["rejected", dir, "--database", file, "--reason", "UNKNOWN_USER"]);
    expect(unknown.code).toBe(0);
    expect(unknown.stdout).toMatch(/^validation\s+events\s+2024-12-22_day\.ndjson:3  unknown_user  \(load [0-9a-f-]+\)$/m);
    expect(unknown.stdout).toMatch(/^1 rejected row$/m);
    const oneFile = await duckform(["rejected", dir, "--database", file, "--file", "2024-07-29", "--json"]);
    expect(JSON.parse(oneFile.stdout)).toMatchObject([{ stage: "load", file: "2024-07-29_week.ndjson", line: 10 }]);
  });

  it("says to run first when the database has no quality.rejected_rows", async () => {
    const { dir, file } = await landedWarehouse();
    const result = await duckform(["rejected", dir, "--database", file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/has no quality\.rejected_rows: run duckform run \(or duckform pipeline\) first/);
  });
});
