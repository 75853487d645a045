import { randomUUID } from "node:crypto";
import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteQualified } from "../runner/quote.ts";
import { META_SCHEMA } from "../runner/results.ts";

/**
 * duckform_meta.privacy_audit: one row per privacy operation that changed rows (a forget-user,
 * a retention pass): what, about whom as a hash only, when, and how many rows in which tables.
 */
export interface AuditEntry {
  action: "forget" | "retention";
  /** forget: the hash of the person's identifier; retention: null. */
  subjectHash: string | null;
  /** retention: the source; forget: null. */
  source: string | null;
  /** `{ "raw.events": { deleted: 12, redacted: 0 }, … }` */
  rows: Record<string, { deleted: number; redacted: number }>;
  detail?: Record<string, unknown>;
}

export async function recordAudit(connection: DuckDBConnection, catalog: string, entry: AuditEntry): Promise<string> {
  const table = quoteQualified(catalog, META_SCHEMA, "privacy_audit");
  await connection.run(`
    create schema if not exists ${quoteQualified(catalog, META_SCHEMA)};
    create table if not exists ${table} (
      audit_id varchar, action varchar, subject_hash varchar, source varchar, recorded_at timestamptz,
      rows_deleted bigint, rows_redacted bigint, tables json, detail json
    )`);
  const id = randomUUID();
  const sum = (k: "deleted" | "redacted") => Object.values(entry.rows).reduce((n, r) => n + r[k], 0);
  await connection.run(`insert into ${table} values ($1, $2, $3, $4, current_timestamp, $5, $6, $7::json, $8::json)`, [
    id,
    entry.action,
    entry.subjectHash,
    entry.source,
    sum("deleted"),
    sum("redacted"),
    JSON.stringify(entry.rows),
    JSON.stringify(entry.detail ?? {}),
  ]);
  return id;
}
