import { InvalidArgumentError, type Command } from "commander";
import { runLoadCommand, type LoadCommandOptions } from "../command.ts";
import type { HubspotLandResult } from "./load.ts";
import { HUBSPOT_OBJECTS, type HubspotObject } from "./readCsv.ts";

/** `duckform load hubspot <dir | files>…`. Exits 1 when any file was refused or failed. */
export function registerHubspotCommand(load: Command): void {
  load
    .command("hubspot")
    .description(
      "Land HubSpot CRM CSV exports of companies, contacts and deals into raw.hubspot_companies, raw.hubspot_contacts, raw.hubspot_deals",
    )
    .argument("<paths...>", "CSV files, folders of them, or zip files")
    .option("--project <dir>", "Dataform project directory", ".")
    .option("--database <file>", "DuckDB database file (default: the project's)")
    .option("--replace", "replace files whose content changed since they were landed")
    .option("--object <object>", "the object every file holds: companies, contacts or deals (default: read from each header)", objectOption)
    .action((paths: string[], options: HubspotCommandOptions) =>
      runLoadCommand("load hubspot", options, async (db, onProgress) => {
        const { loadHubspot } = await import("./load.ts");
        const results = await loadHubspot(db, paths, {
          replace: options.replace,
          object: options.object,
          onProgress,
          onWarning: (message) => console.error(`duckform: warning: ${message}`),
        });
        return { results, summary: rowsPerTable(results) };
      }),
    );
}

interface HubspotCommandOptions extends LoadCommandOptions {
  replace?: boolean;
  object?: HubspotObject;
}

function objectOption(value: string): HubspotObject {
  if (!(HUBSPOT_OBJECTS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${HUBSPOT_OBJECTS.join(", ")}, got "${value}"`);
  }
  return value as HubspotObject;
}

function rowsPerTable(results: HubspotLandResult[]): string {
  const rows = new Map<string, number>();
  for (const r of results) rows.set(r.table, (rows.get(r.table) ?? 0) + r.rowsLanded);
  const perTable = [...rows].map(([table, n]) => `raw.${table} ${n.toLocaleString("en")}`).join(", ");
  return perTable ? ` (${perTable})` : "";
}
