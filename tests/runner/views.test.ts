import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runProject } from "../../runner/run.ts";
import { copyFixture, projectDatabase } from "../util/project.ts";
import { tempDir } from "../util/tmp.ts";
import { selectEveryView } from "../util/readOnly.ts";

describe("views", () => {
  it("resolve in a copy of the database opened read-only under any other name", async () => {
    const dir = copyFixture("views");
    const run = await runProject(dir, { resultsFile: join(tempDir(), "run_results.json") });
    expect(run.status).toBe("success");
    const copy = join(tempDir(), "renamed-by-a-bi-tool.duckdb");
    copyFileSync(projectDatabase(dir), copy);
    const counts = await selectEveryView(copy);
    expect(counts).toMatchObject({ "gold.order_amounts": 3, "gold.big_orders": 2, "quality.orders_without_amount": 0 });
    // The built-in assertions' views too: uniqueKey, nonNull, rowConditions on both views.
    expect(Object.keys(counts).filter((k) => k.startsWith("quality.")).length).toBe(4);
  });

  it("resolve when the project's database file is not named after its defaultProject", async () => {
    const dir = copyFixture("views");
    const file = join(tempDir(), "elsewhere.duckdb");
    expect((await runProject(dir, { database: file, resultsFile: join(tempDir(), "run_results.json") })).status).toBe("success");
    expect(await selectEveryView(file)).toMatchObject({ "gold.order_amounts": 3, "gold.big_orders": 2 });
  });
});
