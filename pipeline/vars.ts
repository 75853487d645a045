import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { UsageError } from "../runner/errors.ts";

/** Where a var's value came from, for the message that rejects it. */
export interface VarSource {
  value: string;
  from: string;
}

/**
 * The vars definitions read, checked before compiling: a bad `end_date` would otherwise surface as
 * a cast error inside some gold model, far from the typo. Unknown vars are passed through.
 */
const CHECKS: Record<string, { test: (v: string) => boolean; expected: string }> = {
  end_date: { test: isDate, expected: "a date, YYYY-MM-DD" },
  session_gap_minutes: { test: (v) => /^\d+$/.test(v) && Number(v) > 0, expected: "a whole number of minutes ≥ 1" },
};

function isDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(value);
}

/** The project's own vars (dataform.json or workflow_settings.yaml), as strings. */
export function projectVars(projectDir: string): Record<string, string> {
  const dir = resolve(projectDir);
  const yamlFile = join(dir, "workflow_settings.yaml");
  const jsonFile = join(dir, "dataform.json");
  let vars: unknown;
  if (existsSync(yamlFile)) vars = (parseYaml(readFileSync(yamlFile, "utf8")) as { vars?: unknown } | null)?.vars;
  else if (existsSync(jsonFile)) vars = (JSON.parse(readFileSync(jsonFile, "utf8")) as { vars?: unknown }).vars;
  return Object.fromEntries(Object.entries((vars ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

/** Throws a UsageError (exit 2) naming the first var whose value a definition could not use. */
export function validateVars(vars: Record<string, VarSource>): void {
  for (const [name, check] of Object.entries(CHECKS)) {
    const v = vars[name];
    if (v && !check.test(v.value)) {
      throw new UsageError(`var ${name} = "${v.value}" (${v.from}) is not ${check.expected}`);
    }
  }
}

/** The catalog the project's compiled SQL names (defaultDatabase, v3: defaultProject). */
export function projectCatalog(projectDir: string): string | undefined {
  const dir = resolve(projectDir);
  const yamlFile = join(dir, "workflow_settings.yaml");
  const jsonFile = join(dir, "dataform.json");
  if (existsSync(yamlFile)) return (parseYaml(readFileSync(yamlFile, "utf8")) as { defaultProject?: string } | null)?.defaultProject;
  if (existsSync(jsonFile)) return (JSON.parse(readFileSync(jsonFile, "utf8")) as { defaultDatabase?: string }).defaultDatabase;
  return undefined;
}
