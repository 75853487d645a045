import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../loaders/sample/activity.ts";

const ROOT = join(import.meta.dirname, "..", "..");

/** includes/constants.js as Dataform evaluates it, with the project's vars. */
function constants(vars: Record<string, string> = {}): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> };
  runInNewContext(readFileSync(join(ROOT, "includes", "constants.js"), "utf8"), { module, dataform: { projectConfig: { vars } } });
  return module.exports;
}

describe("includes/constants.js", () => {
  it("lists the event types the sample generator and the benchmarks send, so there is one list", () => {
    expect(constants().EVENT_TYPES).toEqual([...EVENT_TYPES]);
  });

  it("reads the session gap and the report end date from the project's vars", () => {
    expect(constants()).toMatchObject({ SESSION_GAP_MINUTES: 30, END_DATE: "2025-01-01" });
    expect(constants({ session_gap_minutes: "45", end_date: "2024-07-01" })).toMatchObject({
      SESSION_GAP_MINUTES: 45,
      END_DATE: "2024-07-01",
    });
  });
});
