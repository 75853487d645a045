import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { copyFixture } from "../util/project.ts";

const BIN = resolve(import.meta.dirname, "..", "..", "bin", "duckform.js");

function duckform(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, DUCKFORM_DATABASE: "" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("duckform CLI", () => {
  it("compile lists graph errors with their files and exits non-zero", () => {
    const { code, stderr } = duckform("compile", resolve(import.meta.dirname, "..", "fixtures", "compile-error"));
    expect(code).toBe(1);
    expect(stderr).toMatch(/definitions\/bad_ref\.sqlx: Could not resolve "does_not_exist"/);
    expect(stderr).toMatch(/definitions\/bad_js\.js: undefinedVariable is not defined/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("run prints each action, names the file of a SQL error without a stack trace, and exits 1", () => {
    const dir = copyFixture("failures");
    const { code, stdout, stderr } = duckform("run", dir, "--vars", "break=1");
    expect(code).toBe(1);
    expect(stdout).toMatch(/Failed: test-proj\.analytics\.broken \[table/);
    expect(stdout).toMatch(/definitions\/broken\.sqlx: Binder Error: .*no_such_column/);
    expect(stdout).toMatch(/Skipped: test-proj\.analytics\.after_broken/);
    expect(stdout).toMatch(/Run failed in .*: 2 succeeded, 2 failed, 2 skipped, 0 disabled\./);
    expect(stderr).toBe("");
  });

  it("run --json prints the run results; --dry-run prints SQL", () => {
    const dir = copyFixture("selection");
    const json = duckform("run", dir, "--json", "--actions", "a");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).actions).toMatchObject([{ name: "test-proj.analytics.a", status: "success" }]);
    const dry = duckform("run", dir, "--dry-run", "--actions", "b");
    expect(dry.stdout).toMatch(/create or replace table "test-proj"\."analytics"\."b" as/);
  });

  it("a bad flag or a missing project is one line of error, never a stack trace", () => {
    const flag = duckform("run", "--concurrency", "zero");
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/expected a whole number/);
    const missing = duckform("run", "/no/such/project");
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe("duckform: project directory /no/such/project does not exist");
  });

  it("test reports passing and failing unit tests with the differing columns and exits 1", () => {
    const { code, stdout, stderr } = duckform("test", resolve(import.meta.dirname, "..", "fixtures", "unit-tests"));
    expect(stderr).toBe("");
    expect(code).toBe(1);
    expect(stdout).toMatch(/Test passed: latest_plays_test/);
    expect(stdout).toMatch(/Test failed: latest_plays_wrong_test/);
    expect(stdout).toMatch(/row 1, column "user_id": expected u1, but saw u1-late/);
    expect(stdout).toMatch(/^1 passed, 1 failed$/m);
  });

  it("compile counts notebooks in its summary and lists them", () => {
    const { code, stdout } = duckform("compile", resolve(import.meta.dirname, "..", "fixtures", "notebook"));
    expect(code).toBe(0);
    expect(stdout).toMatch(/: 1 dataset, 0 assertions, 0 operations, 0 declarations, 0 tests, 1 notebook\.$/m);
    expect(stdout).toMatch(/test-proj\.analytics\.explore \[notebook\]  definitions\/explore\.ipynb/);
  });

  it("--dry-run ends each statement with one semicolon, even one that ends in its own", () => {
    const dir = copyFixture("selection");
    writeFileSync(join(dir, "definitions", "semicolon.sqlx"), 'config { type: "operations" }\nselect 1;\n');
    const { stdout } = duckform("run", dir, "--dry-run", "--actions", "semicolon");
    expect(stdout).toMatch(/^select 1;$/m);
    expect(stdout).not.toContain(";;");
  });

  it("an error outside any action is printed as its message, without an 'Error: ' prefix", () => {
    const dir = copyFixture("selection");
    writeFileSync(join(dir, "workflow_settings.yaml"), "defaultProject: test-proj\nnoSuchSetting: 1\n");
    const { code, stderr } = duckform("compile", dir);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^duckform: compilation failed: Workflow settings error: /);
    expect(stderr).not.toMatch(/Error: Workflow/);
  });
});
