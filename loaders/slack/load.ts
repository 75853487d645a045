import { basename, resolve } from "node:path";
import type { Database } from "../../runner/database.ts";
import { UserError } from "../../runner/errors.ts";
import { landDocuments, type LandResult, type SourceDocument } from "../land.ts";
import { ensureLandingTables, newLoadId } from "../ledger.ts";
import type { LoadProgress } from "../progress.ts";
import { CHANNEL_LISTS, dayFileDocument, isDayFile, slackDirectory, teamOfMessages } from "./parseExport.ts";
import { DEFAULT_LIMITS, openSlackExport, type ExportLimits, type SlackExport } from "./readExport.ts";

export interface SlackLandResult extends LandResult {
  table: string;
}

export interface SlackLoadOptions {
  /** The workspace's key; default the team id in users.json, else the export's own name. */
  workspace?: string;
  loadId?: string;
  /** Land an export without users.json or channels.json (with a warning) instead of refusing it. */
  allowPartial?: boolean;
  limits?: Partial<ExportLimits>;
  onProgress?: (state: LoadProgress) => void;
  /** Told what the load left out or could not do, for the user to see. */
  onWarning?: (message: string) => void;
}

export const SLACK_TABLES = ["slack_users", "slack_channels", "slack_messages"] as const;

/** Day files read, parsed and landed at a time, and the inflated bytes they may hold: one transaction each. */
const BATCH_FILES = 500;
const BATCH_BYTES = 64 * 2 ** 20;

/** What authors, mentions and channel names are resolved against; without them a load is partial. */
const DIRECTORY_FILES = ["users.json", "channels.json"];

/**
 * Lands a Slack workspace export (its folder or zip) into `raw.slack_users`, `raw.slack_channels`
 * and `raw.slack_messages`, one ledger entry per file named `<workspace>/<path inside the export>`:
 * the definitions read the workspace from that name, so two workspaces' `users.json` and
 * `general/` never meet. The ledger knows the files by their content: a newer export of the same
 * workspace lands beside the older one, and the newest copy of each message, user and channel wins.
 * Authors and mentions are resolved against the export's own `users.json`. One load id for all
 * three. Day files go in batches; the ledger is per file, so a rerun after a crash lands only
 * what is missing. An export without users.json or channels.json is refused unless
 * `allowPartial`: its messages would land without authors, and the identical day files of the
 * complete export would later be skipped. All three tables exist afterwards either way, so
 * that the definitions reading them run.
 */
export async function loadSlack(db: Database, exportPath: string, options: SlackLoadOptions = {}): Promise<SlackLandResult[]> {
  const slack = await openSlackExport(exportPath, {
    maxEntryBytes: options.limits?.maxEntryBytes ?? DEFAULT_LIMITS.maxEntryBytes,
    maxArchiveBytes: options.limits?.maxArchiveBytes ?? DEFAULT_LIMITS.maxArchiveBytes,
  });
  try {
    for (const skipped of slack.skipped) options.onWarning?.(`skipped ${skipped}`);
    const missing = DIRECTORY_FILES.filter((n) => !slack.names.includes(n));
    if (missing.length > 0) {
      const what = `${exportPath} is an incomplete Slack export: it has no ${missing.join(" and no ")}`;
      if (!options.allowPartial) {
        throw new UserError(
          `${what}, so its messages would land without their authors' or channels' names. ` +
            "Load the complete export, or pass --allow-partial to land it anyway (a complete export loaded later fills in what is missing)",
        );
      }
      options.onWarning?.(`${what}; landing it anyway (--allow-partial): authors and channels resolve once a complete export is loaded`);
    }
    await db.withConnection(async (connection) => {
      for (const table of SLACK_TABLES) await ensureLandingTables(connection, table);
    });
    return await landExport(db, exportPath, slack, options);
  } finally {
    slack.close();
  }
}

async function landExport(db: Database, exportPath: string, slack: SlackExport, options: SlackLoadOptions): Promise<SlackLandResult[]> {
  const [usersFile] = await slack.read(slack.names.filter((n) => n === "users.json"));
  const directory = slackDirectory(usersFile, await slack.read(CHANNEL_LISTS.filter((n) => slack.names.includes(n))));
  const dayFiles = slack.names.filter(isDayFile);
  const workspace = workspaceOf(exportPath, directory.teamId ?? teamOfMessages(await slack.read(dayFiles.slice(0, 5))), options);
  // A file is known by its bytes within its workspace: two workspaces' identical channels.json both land.
  const landOptions = { rule: "content" as const, scope: workspace, loadId: options.loadId ?? newLoadId() };
  const landed = [...directory.users, ...directory.channels];
  const progress: LoadProgress = {
    files: 0,
    totalFiles: landed.length + dayFiles.length,
    bytes: 0,
    totalBytes: landed.reduce((n, d) => n + d.bytes, 0) + dayFiles.reduce((n, name) => n + slack.size(name), 0),
    rows: 0,
  };
  const results: SlackLandResult[] = [];
  const land = async (table: string, docs: SourceDocument[]): Promise<void> => {
    if (docs.length === 0) return;
    const named = docs.map((doc) => ({ ...doc, fileName: `${workspace}/${doc.fileName}` }));
    for (const result of await landDocuments(db, table, named, landOptions)) {
      results.push({ ...result, table });
      progress.rows += result.rowsLanded;
    }
    progress.files += docs.length;
    progress.bytes += docs.reduce((n, d) => n + d.bytes, 0);
    options.onProgress?.(progress);
  };
  await land("slack_users", directory.users);
  await land("slack_channels", directory.channels);
  for (const batch of batches(dayFiles, (name) => slack.size(name))) {
    await land(
      "slack_messages",
      (await slack.read(batch)).map((file) => dayFileDocument(file, directory)),
    );
  }
  return results;
}

/**
 * The key the export's files land under: `--workspace`, else the team id its users (or, without
 * users.json, its messages) carry, else (with a warning) the export's own file or folder name,
 * which stays the same across re-exports only if the user keeps it so.
 */
function workspaceOf(exportPath: string, teamId: string | undefined, options: SlackLoadOptions): string {
  if (options.workspace !== undefined) {
    if (!WORKSPACE.test(options.workspace)) {
      throw new UserError(`--workspace must be letters, digits, '.', '_' or '-', got "${options.workspace}"`);
    }
    return options.workspace;
  }
  if (teamId !== undefined && WORKSPACE.test(teamId)) return teamId;
  const name = basename(resolve(exportPath))
    .replace(/\.zip$/i, "")
    .replace(/[^A-Za-z0-9_.-]+/g, "_");
  options.onWarning?.(
    `${exportPath}: neither users.json nor the messages name a team id; landing it as workspace "${name}" (pass --workspace to choose its key)`,
  );
  return name;
}

const WORKSPACE = /^[A-Za-z0-9_.-]+$/;

/** `names` in order, cut into batches of at most BATCH_FILES names and (but for a single big file) BATCH_BYTES. */
function batches(names: string[], size: (name: string) => number): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const name of names) {
    if (current.length > 0 && (current.length >= BATCH_FILES || bytes + size(name) > BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(name);
    bytes += size(name);
  }
  if (current.length > 0) out.push(current);
  return out;
}
