import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { UserError, messageOf } from "./errors.ts";

/** The `@dataform/core` a project compiles with, and where it came from. */
export interface Core {
  bundle: string;
  /** The folder holding core.proto (old cores ship none; ours serve, the wire format being compatible). */
  protoDir: string;
  version: string;
  /** Where it was found, for `duckform compile` to say. */
  source: string;
}

interface Pin {
  version: string;
  /** The file that pins it. */
  from: "workflow_settings.yaml" | "package.json";
}

const ourBundle = createRequire(import.meta.url).resolve("@dataform/core/bundle.js");

/**
 * Chooses the core the way `dataform compile` does. A `dataformCoreVersion` in
 * workflow_settings.yaml, or `@dataform/core` in package.json, pins a version: the project's
 * installed core serves when it is that version (for package.json, whatever npm installed), else
 * ours when it is, else that version installed once with npm into the cache and reused. Without
 * a pin, the project's installed core, else ours.
 */
export function resolveCore(projectDir: string): Core {
  const pin = readPin(projectDir);
  const ownBundle = join(projectDir, "node_modules", "@dataform", "core", "bundle.js");
  const own = existsSync(ownBundle) ? describe(ownBundle, join(projectDir, "node_modules")) : undefined;
  const ours = describe(ourBundle, "duckform's own");
  let core: Core;
  if (!pin) {
    core = own ?? ours;
  } else if (own && (pin.from === "package.json" || own.version === pin.version)) {
    core = own;
  } else if (ours.version === pin.version) {
    core = ours;
  } else if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(pin.version)) {
    refuseCore2(pin.version, pin.from);
    // Core compares dataformCoreVersion with its own version, so only an exact one can compile.
    if (pin.from === "workflow_settings.yaml") {
      throw new UserError(
        `dataformCoreVersion in workflow_settings.yaml must be an exact version such as ${ours.version}, not ${pin.version}`,
      );
    }
    // A range in package.json is npm's to resolve; the project has not run npm install yet.
    throw new UserError(
      `package.json asks for @dataform/core ${pin.version}, which is not installed in ${join(projectDir, "node_modules")}; ` +
        `run \`npm install\` in ${projectDir}`,
    );
  } else {
    refuseCore2(pin.version, pin.from);
    core = cachedCore(pin, projectDir);
  }
  refuseCore2(core.version, core.source);
  return core;
}

/** Where pinned cores are installed: $DUCKFORM_CORE_CACHE, else ~/.cache/duckform/core. */
function coreCacheDir(): string {
  return process.env.DUCKFORM_CORE_CACHE || join(homedir(), ".cache", "duckform", "core");
}

function readPin(projectDir: string): Pin | undefined {
  const settingsFile = join(projectDir, "workflow_settings.yaml");
  const packageFile = join(projectDir, "package.json");
  try {
    if (existsSync(settingsFile)) {
      const settings = (parseYaml(readFileSync(settingsFile, "utf8")) ?? {}) as { dataformCoreVersion?: unknown };
      if (settings.dataformCoreVersion) return { version: String(settings.dataformCoreVersion), from: "workflow_settings.yaml" };
    }
    if (existsSync(packageFile)) {
      const pkg = JSON.parse(readFileSync(packageFile, "utf8")) as Record<string, Record<string, string> | undefined>;
      const version = pkg.dependencies?.["@dataform/core"] ?? pkg.devDependencies?.["@dataform/core"];
      if (version) return { version, from: "package.json" };
    }
  } catch {
    // Core reports a broken settings file itself, with its own message; here it just pins nothing.
  }
  return undefined;
}

function describe(bundle: string, source: string): Core {
  const dir = dirname(bundle);
  const version = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version?: string }).version ?? "0.0.0";
  const protoDir = existsSync(join(dir, "core.proto")) ? dir : dirname(ourBundle);
  return { bundle, protoDir, version, source };
}

/**
 * Core 2 compiles to a graph without the action types and configs duckform reads (every table
 * comes out as an unknown type), so it is refused rather than half run. Core 3 still reads
 * dataform.json, so the fix is only the version.
 */
function refuseCore2(version: string, from: string): void {
  const major = Number(/\d+/.exec(version)?.[0]);
  if (major >= 3) return;
  const ours = describe(ourBundle, "").version;
  const fix =
    from === "workflow_settings.yaml"
      ? `set dataformCoreVersion: ${ours} in workflow_settings.yaml`
      : `set "@dataform/core": "${ours}" in package.json and run \`npm install\` (core 3 still reads dataform.json)`;
  throw new UserError(`@dataform/core ${version} (${from}) is too old: duckform compiles with @dataform/core 3 or later; ${fix}`);
}

/**
 * The pinned version from the cache, installed there first if missing. npm installs into a
 * fresh folder that is renamed into place only when complete, so an interrupted or failed
 * install never leaves a half-filled cache entry that later compiles would trust.
 */
function cachedCore(pin: Pin, projectDir: string): Core {
  const cache = coreCacheDir();
  const dir = join(cache, pin.version);
  const bundle = join(dir, "node_modules", "@dataform", "core", "bundle.js");
  if (!existsSync(bundle)) {
    mkdirSync(cache, { recursive: true });
    const staging = mkdtempSync(join(cache, `.${pin.version}-`));
    try {
      writeFileSync(join(staging, "package.json"), JSON.stringify({ private: true, dependencies: { "@dataform/core": pin.version } }));
      process.stderr.write(`duckform: installing @dataform/core ${pin.version} (pinned by ${pin.from}) into ${dir}, once\n`);
      execFileSync("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], {
        cwd: staging,
        stdio: ["ignore", "ignore", "pipe"],
        timeout: 300_000,
      });
      if (!existsSync(bundle)) {
        rmSync(dir, { recursive: true, force: true });
        renameSync(staging, dir);
      }
    } catch (error) {
      const stderr = String((error as { stderr?: Buffer }).stderr ?? "").trim();
      const reason =
        stderr
          .split("\n")
          .filter((l) => /error/i.test(l))
          .slice(0, 2)
          .join("; ") || messageOf(error);
      const projectInstall = pin.from === "package.json" ? `, or \`npm install\` in ${projectDir}` : "";
      throw new UserError(
        `@dataform/core ${pin.version}, pinned by ${pin.from}, is not installed: looked in ` +
          `${join(projectDir, "node_modules", "@dataform", "core")} and ${dir}, and npm could not install it (${reason}). ` +
          `Fix: with the npm registry reachable, run \`npm install --prefix ${dir} @dataform/core@${pin.version}\` ` +
          `(duckform runs it itself when it can)${projectInstall}, or pin a published version (\`npm view @dataform/core versions\`)`,
      );
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  return describe(bundle, dir);
}
