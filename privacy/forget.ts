import { randomUUID } from "node:crypto";
import { copyFileSync, existsSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { readConfig } from "../pipeline/config.ts";
import { LockBusyError, PipelineLock } from "../pipeline/lock.ts";
import { projectCatalog } from "../pipeline/vars.ts";
import { Database, projectDatabase } from "../runner/database.ts";
import { UserError, messageOf } from "../runner/errors.ts";
import { publishGold, publishedPath } from "../runner/publish.ts";
import { quoteIdent } from "../runner/quote.ts";
import { runProject } from "../runner/run.ts";
import { inTransaction } from "../runner/transaction.ts";
import { recordAudit } from "./audit.ts";
import { isForgotten, readForgotten, recordForgotten } from "./forgotten.ts";
import { defineMatchMacros, identifierHashSql, type ForgottenSet } from "./match.ts";
import { PERSON_SOURCES, personIdentifiers } from "./people.ts";
import { subtractFromLedger, sweep, sweepCounts } from "./sweep.ts";

export interface ForgetOptions {
  /** duckform.yaml, for its database, publish and report paths and vars. */
  config?: string;
  database?: string;
  vars?: Record<string, string>;
  waitSeconds?: number;
}

export interface ForgetResult {
  database: string;
  /** sha256 of the person's key: the audit row's subject. */
  subjectHash: string;
  /** False when the person had been forgotten already (a rerun after a crash finishes the job). */
  newlyForgotten: boolean;
  identifiers: number;
  /** Identifiers of theirs that other people have too (a first name): kept, not forgotten. */
  shared: number;
  tables: Record<string, { deleted: number; redacted: number }>;
  runStatus: "success" | "failed";
  published: string | null;
  /** Why gold was not republished (its previous snapshot was swept instead). */
  publishNote: string | null;
  report: string | null;
}

/**
 * `duckform forget-user`: removes a person from every table of the warehouse, records their
 * identifiers' hashes so that no later load brings them back, rebuilds what is derived, and
 * republishes gold (or, when gold cannot be published, sweeps the published snapshot itself).
 * The sweep is one transaction and each later step is a checkpoint of its own: after a crash,
 * running the same command again finishes the job and records nothing twice.
 */
export async function forgetUser(projectDir: string, who: string, options: ForgetOptions = {}): Promise<ForgetResult> {
  if (!who.trim()) throw new UserError("forget-user needs a user id, e-mail or handle");
  const config = options.config ? readConfig(options.config) : null;
  const { file, catalog } = projectDatabase(projectDir, options.database ?? config?.database, projectCatalog(projectDir));
  if (!existsSync(file)) throw new UserError(`database ${file} does not exist; nothing to forget`);
  const vars = { ...(config?.vars ?? {}), ...(options.vars ?? {}) };
  let lock: PipelineLock;
  try {
    lock = await PipelineLock.open(file, { waitSeconds: options.waitSeconds });
  } catch (error) {
    if (error instanceof LockBusyError) throw new UserError(`forget-user did not start: ${error.message}`);
    throw error;
  }
  try {
    const forgotten = await forgetInDatabase(file, catalog, who);
    const run = await runProject(projectDir, { database: file, vars, warn: () => undefined });
    const target = publishedPath(file, config?.publish);
    let published: string | null = null;
    let publishNote: string | null = null;
    try {
      published = (await publishGold(projectDir, { database: file, to: config?.publish, vars })).file;
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      publishNote = messageOf(error);
      if (existsSync(target)) await sweepPublished(target, forgotten.set);
    }
    const reportFile = config?.report ?? join(dirname(file), "report.html");
    let report: string | null = null;
    if (existsSync(reportFile)) {
      const { writeReport } = await import("../report/report.ts");
      report = (await writeReport(projectDir, { database: file, out: reportFile })).file;
    }
    return { ...forgotten.result, database: file, runStatus: run.status, published, publishNote, report };
  } finally {
    lock.close();
  }
}

async function forgetInDatabase(
  file: string,
  catalog: string,
  who: string,
): Promise<{ set: ForgottenSet; result: Pick<ForgetResult, "subjectHash" | "newlyForgotten" | "identifiers" | "shared" | "tables"> }> {
  const db = await Database.open(file, catalog);
  try {
    return await db.withConnection(async (connection) => {
      await defineMatchMacros(connection);
      const person = await personIdentifiers(connection, catalog, who);
      if (person.values.length === 0 && !(await isForgotten(connection, catalog, who))) {
        const looked = PERSON_SOURCES.map((s) => `${s.schema}.${s.table}`).join(", ");
        throw new UserError(`nobody in ${file} has the user id, e-mail or handle "${who}" (looked in ${looked}); nothing was changed`);
      }
      const subject = person.keys[0] ?? who;
      const subjectHash = String((await connection.runAndReadAll(`select ${identifierHashSql("$1")}`, [subject])).getRows()[0][0]);
      return inTransaction(connection, async () => {
        const added = await recordForgotten(connection, catalog, randomUUID(), [...person.values, who]);
        // Everyone forgotten so far, not only this person: a sweep is also what repairs an earlier one cut short.
        const set = await readForgotten(connection, catalog);
        const sweeps = await sweep(connection, catalog, set);
        await subtractFromLedger(connection, catalog, sweeps);
        const tables = sweepCounts(sweeps);
        if (added > 0 || sweeps.length > 0) {
          await recordAudit(connection, catalog, {
            action: "forget",
            subjectHash,
            source: null,
            rows: tables,
            detail: { identifiers: added },
          });
        }
        return {
          set,
          result: { subjectHash, newlyForgotten: added > 0, identifiers: person.values.length, shared: person.shared.length, tables },
        };
      });
    });
  } finally {
    db.close();
  }
}

/**
 * Sweeps a copy of the published snapshot and renames it over the original, as publish does, so a
 * BI tool holding the file open is never blocked and never sees a half-swept table.
 */
async function sweepPublished(target: string, set: ForgottenSet): Promise<void> {
  const next = `${target}.forget-next`;
  rmSync(next, { force: true });
  copyFileSync(target, next);
  const catalog = "duckform_published";
  const db = await Database.open(next, catalog);
  try {
    await db.withConnection(async (connection) => {
      await inTransaction(connection, () => sweep(connection, catalog, set));
      await connection.run(`checkpoint ${quoteIdent(catalog)}`);
    });
  } finally {
    db.close();
  }
  rmSync(`${next}.wal`, { force: true });
  rmSync(`${target}.wal`, { force: true });
  renameSync(next, target);
}
