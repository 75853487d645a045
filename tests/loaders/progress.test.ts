import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { loadSummary, startLoadProgress } from "../../loaders/progress.ts";
import type { LandResult } from "../../loaders/land.ts";

const result = (status: LandResult["status"], rowsLanded = 0, rowsQuarantined = 0): LandResult => ({
  fileName: "f",
  path: "/f",
  status,
  rowsLanded,
  rowsQuarantined,
});

describe("loadSummary", () => {
  it("counts files by outcome and sums landed and quarantined rows", () => {
    const line = loadSummary(
      "load ndjson",
      [result("landed", 1200, 3), result("landed", 800), result("skipped"), result("refused"), result("replaced", 5, 1)],
      2.345,
    );
    expect(line).toBe("load ndjson: files 2 landed, 1 replaced, 1 skipped, 1 refused; 2,005 rows landed, 4 quarantined in 2.3 s");
  });
});

describe("startLoadProgress", () => {
  it("writes nothing when stderr is not a terminal", () => {
    const stream = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    let written = "";
    (stream as unknown as PassThrough).on("data", (d: Buffer) => (written += d.toString()));
    const progress = startLoadProgress("load ndjson", { stream, delayMs: 0 });
    progress.update({ files: 1, totalFiles: 2, bytes: 10, totalBytes: 20, rows: 5 });
    progress.stop();
    expect(written).toBe("");
  });
});
