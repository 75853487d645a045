import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { compileProject } from "../../runner/compile.ts";
import { resolveCore } from "../../runner/core.ts";
import { duckform } from "../util/cli.ts";
import { prepareCoreCache } from "../util/core.ts";
import { copyFixture } from "../util/project.ts";
import { tempDir } from "../util/tmp.ts";

const ourVersion = (
  JSON.parse(readFileSync(join(import.meta.dirname, "../../node_modules/@dataform/core/package.json"), "utf8")) as {
    version: string;
  }
).version;

let cache: string;

beforeEach(() => {
  cache = tempDir("duckform-core-cache-");
  vi.stubEnv("DUCKFORM_CORE_CACHE", cache);
  // Should anything reach for npm, it finds no registry and no network.
  vi.stubEnv("npm_config_registry", "http://127.0.0.1:9/");
  vi.stubEnv("npm_config_offline", "true");
});

afterEach(() => {
  vi.unstubAllEnvs();
});

function writeSettings(dir: string, pin: string) {
  writeFileSync(join(dir, "workflow_settings.yaml"), `dataformCoreVersion: ${pin}\ndefaultProject: test-proj\ndefaultDataset: analytics\n`);
}

describe("a pinned dataformCoreVersion", () => {
  it("compiles with that version from duckform's core cache", () => {
    prepareCoreCache(cache, "3.0.8");
    const dir = copyFixture("pinned-core");
    const graph = compileProject(dir);
    expect(graph.graphErrors.compilationErrors).toEqual([]);
    expect(graph.dataformCoreVersion).toBe("3.0.8");
    expect(graph.tables.map((t) => t.target.name)).toEqual(["greeting"]);
    expect(resolveCore(dir).source).toBe(join(cache, "3.0.8"));
  });

  it("compiles with duckform's own core when that is the pinned version", () => {
    const dir = copyFixture("pinned-core");
    writeSettings(dir, ourVersion);
    expect(compileProject(dir).dataformCoreVersion).toBe(ourVersion);
    expect(resolveCore(dir).source).toBe("duckform's own");
  });

  it("uses the project's installed core when it is the pinned version", () => {
    const installed = prepareCoreCache(tempDir(), "3.0.8");
    const dir = copyFixture("pinned-core");
    mkdirSync(join(dir, "node_modules", "@dataform"), { recursive: true });
    symlinkSync(installed, join(dir, "node_modules", "@dataform", "core"));
    expect(compileProject(dir).dataformCoreVersion).toBe("3.0.8");
    expect(resolveCore(dir).source).toBe(join(dir, "node_modules"));
  });

  it("that cannot be installed fails naming the version, where it looked, and the command that fixes it", () => {
    const dir = copyFixture("pinned-core");
    writeSettings(dir, "3.0.999");
    expect(() => compileProject(dir)).toThrow(
      new RegExp(
        `@dataform/core 3\\.0\\.999, pinned by workflow_settings\\.yaml, is not installed: looked in .*node_modules/@dataform/core and ` +
          `${join(cache, "3.0.999").replace(/[.]/g, "\\.")}, and npm could not install it .*npm install --prefix ${join(cache, "3.0.999").replace(/[.]/g, "\\.")} @dataform/core@3\\.0\\.999`,
      ),
    );
  });

  it("that is a range is refused: core compares the pin with its own version", () => {
    const dir = copyFixture("pinned-core");
    writeSettings(dir, "^3.0.0");
    expect(() => compileProject(dir)).toThrow(
      `dataformCoreVersion in workflow_settings.yaml must be an exact version such as ${ourVersion}, not ^3.0.0`,
    );
  });

  it("is printed by compile and recorded in run_results.json", async () => {
    prepareCoreCache(cache, "3.0.8");
    const dir = copyFixture("pinned-core");
    const compiled = await duckform(["compile", dir]);
    expect(compiled.code).toBe(0);
    expect(compiled.stdout).toContain(`@dataform/core 3.0.8 (${join(cache, "3.0.8")})`);
    const run = await duckform(["run", dir]);
    expect(run.code).toBe(0);
    const results = JSON.parse(readFileSync(join(dir, "run_results.json"), "utf8")) as { dataformCoreVersion: string };
    expect(results.dataformCoreVersion).toBe("3.0.8");
  });
});

describe("a core pin in package.json", () => {
  it("that npm has not installed is refused with the command that installs it", () => {
    const dir = copyFixture("pinned-core");
    writeFileSync(join(dir, "workflow_settings.yaml"), "defaultProject: test-proj\ndefaultDataset: analytics\n");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ dependencies: { "@dataform/core": "^3.0.0" } }));
    expect(() => compileProject(dir)).toThrow(
      `package.json asks for @dataform/core ^3.0.0, which is not installed in ${join(dir, "node_modules")}; run \`npm install\` in ${dir}`,
    );
  });

  it("of an exact version is served from the cache like a workflow_settings.yaml pin", () => {
    prepareCoreCache(cache, "3.0.8");
    const dir = copyFixture("pinned-core");
    writeFileSync(join(dir, "workflow_settings.yaml"), "defaultProject: test-proj\ndefaultDataset: analytics\n");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ dependencies: { "@dataform/core": "3.0.8" } }));
    expect(compileProject(dir).dataformCoreVersion).toBe("3.0.8");
  });
});

describe("core 2", () => {
  it("is refused with a message saying which core and how to upgrade, installed or pinned", () => {
    const dir = copyFixture("pinned-core");
    writeFileSync(join(dir, "workflow_settings.yaml"), "defaultProject: test-proj\ndefaultDataset: analytics\n");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ dependencies: { "@dataform/core": "2.9.0" } }));
    expect(() => compileProject(dir)).toThrow(
      /@dataform\/core 2\.9\.0 \(package\.json\) is too old: duckform compiles with @dataform\/core 3 or later/,
    );

    const installed = prepareCoreCache(tempDir(), "2.9.0");
    mkdirSync(join(dir, "node_modules", "@dataform"), { recursive: true });
    symlinkSync(installed, join(dir, "node_modules", "@dataform", "core"));
    expect(() => compileProject(dir)).toThrow(`@dataform/core 2.9.0 (${join(dir, "node_modules")}) is too old`);
  });
});
