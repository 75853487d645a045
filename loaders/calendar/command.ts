import { InvalidArgumentError, type Command } from "commander";
import { runLoadCommand, type LoadCommandOptions } from "../command.ts";

/** `duckform load calendar <file | dir | zip>…`. Exits 1 when any file was refused or failed. */
export function registerCalendarCommand(load: Command): void {
  load
    .command("calendar")
    .description("Land iCalendar exports (.ics files, folders of them, or Google Calendar's zip) into raw.calendar_events")
    .argument("<paths...>", ".ics files, folders or zip files")
    .option("--project <dir>", "Dataform project directory", ".")
    .option("--database <file>", "DuckDB database file (default: the project's)")
    .option("--replace", "replace files whose content changed since they were landed")
    .option("--horizon <date>", "expand recurring events up to this date (default 2031-01-01)", horizonOption)
    .action((paths: string[], options: CalendarCommandOptions) =>
      runLoadCommand("load calendar", options, async (db, onProgress) => {
        const { loadCalendar } = await import("./load.ts");
        const results = await loadCalendar(db, paths, {
          replace: options.replace,
          limits: options.horizon ? { horizon: options.horizon } : {},
          onProgress,
          onWarning: (message) => console.error(`duckform: warning: ${message}`),
        });
        return { results };
      }),
    );
}

interface CalendarCommandOptions extends LoadCommandOptions {
  replace?: boolean;
  horizon?: Date;
}

function horizonOption(value: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError(`expected a date such as 2026-01-01, got "${value}"`);
  return date;
}
