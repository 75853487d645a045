import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { Database, projectDatabase } from "./database.ts";
import { UserError, messageOf } from "./errors.ts";

/** The few project settings needed before compiling: where the database is and what it is called. */
export interface ProjectSettings {
  dir: string;
  /** Dataform's defaultDatabase (v2) or defaultProject (v3): the catalog compiled SQL names. */
  defaultDatabase?: string;
}

/** Reads `workflow_settings.yaml` (v3) or `dataform.json` (v2) from a project directory. */
function readProjectSettings(projectDir = "."): ProjectSettings {
  const dir = resolve(projectDir);
  const yamlFile = join(dir, "workflow_settings.yaml");
  const jsonFile = join(dir, "dataform.json");
  try {
    if (existsSync(yamlFile)) {
      const s = (parseYaml(readFileSync(yamlFile, "utf8")) ?? {}) as Record<string, unknown>;
      return { dir, defaultDatabase: s.defaultProject as string | undefined };
    }
    if (existsSync(jsonFile)) {
      const s = JSON.parse(readFileSync(jsonFile, "utf8")) as Record<string, unknown>;
      return { dir, defaultDatabase: s.defaultDatabase as string | undefined };
    }
  } catch (error) {
    throw new UserError(`cannot read project settings in ${dir}: ${messageOf(error)}`);
  }
  throw new UserError(`${dir} is not a Dataform project: it has neither workflow_settings.yaml nor dataform.json`);
}

/**
 * Opens the database a project's commands share: `--database`, else $DUCKFORM_DATABASE,
 * else `<defaultDatabase>.duckdb` in the project directory, attached as the defaultDatabase catalog.
 */
export async function openProjectDatabase(options: { project?: string; database?: string; readOnly?: boolean }): Promise<Database> {
  const settings = readProjectSettings(options.project ?? ".");
  const { file, catalog } = projectDatabase(settings.dir, options.database, settings.defaultDatabase);
  if (options.readOnly && !existsSync(file)) throw new UserError(`database ${file} does not exist; run duckform run first`);
  return Database.open(file, catalog, { readOnly: options.readOnly });
}
