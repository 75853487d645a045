import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { LineCounter, isMap, isPair, isScalar, parseDocument, type Document, type Node } from "yaml";
import { z } from "zod";
import { UsageError } from "../runner/errors.ts";

const positive = z.number().positive();
const whole = z.number().int().nonnegative();
const paths = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((p) => (Array.isArray(p) ? p : [p]));
const retention = z.strictObject({ days: z.number().int().positive() });

const ndjsonSource = z.strictObject({
  kind: z.literal("ndjson"),
  name: z.string().min(1).optional(),
  paths,
  /** raw.<table> */
  table: z.string().regex(/^[a-z_][a-z0-9_]*$/, "a lowercase SQL name (letters, digits, _)"),
  retention: retention.optional(),
});
const telegramSource = z.strictObject({
  kind: z.literal("telegram"),
  name: z.string().min(1).optional(),
  paths,
  timezone: z.string().min(1).default("UTC"),
  retention: retention.optional(),
});
const slackSource = z.strictObject({
  kind: z.literal("slack"),
  name: z.string().min(1).optional(),
  paths,
  /** The workspace's key, as `load slack --workspace`; default the team id in users.json. */
  workspace: z.string().min(1).optional(),
  allow_partial: z.boolean().optional(),
  retention: retention.optional(),
});
const calendarSource = z.strictObject({
  kind: z.literal("calendar"),
  name: z.string().min(1).optional(),
  paths,
  /** Recurring events are expanded up to this date. */
  horizon: z.iso.date().optional(),
});
const hubspotSource = z.strictObject({ kind: z.literal("hubspot"), name: z.string().min(1).optional(), paths });
const postgresSource = z
  .strictObject({
    kind: z.literal("postgres"),
    name: z.string().min(1).optional(),
    /** Without a password: that is $PGPASSWORD, never in this file. */
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\/[^:@/]*(@|\/|$)/, "a postgres:// URL without a password (the password is $PGPASSWORD)")
      .optional(),
    /** A SQL dump served from an embedded PGlite for the load, instead of a server at `url` (the bundled sample's product database). */
    pglite: z.string().min(1).optional(),
    tables: z.array(z.string().min(1)).min(1).optional(),
    cursor: z.string().min(1).optional(),
  })
  .refine((s) => (s.url === undefined) !== (s.pglite === undefined), { message: "give either url or pglite, not both or neither" });
export const sourceSchema = z.discriminatedUnion("kind", [
  ndjsonSource,
  telegramSource,
  slackSource,
  calendarSource,
  hubspotSource,
  postgresSource,
]);

const budget = z.union([z.number().positive(), z.string().min(1)]);
const enrichmentSchema = z.strictObject({
  enabled: z.boolean().default(true),
  provider: z.enum(["local", "openai"]).default("local"),
  model: z.string().min(1).optional(),
  embedding_model: z.string().min(1).optional(),
  /** The server; the key is $OPENAI_API_KEY, never in this file. */
  base_url: z.url().optional(),
  embeddings: z.boolean().default(true),
  budget: budget.optional(),
  limits: z
    .strictObject({
      messages: whole.optional(),
      concurrency: z.number().int().positive().optional(),
      rpm: positive.optional(),
      tpm: positive.optional(),
      timeout_seconds: positive.optional(),
      deadline_seconds: positive.optional(),
      retries: whole.optional(),
      batch_size: z.number().int().positive().optional(),
    })
    .default({}),
});

/** `duckform analyze users` in the pipeline: the provider and limits are enrichment's. */
const analysisSchema = z.strictObject({
  enabled: z.boolean().default(true),
  days: z.number().int().positive().default(1),
  max_users_per_day: z.number().int().positive().optional(),
  /** Where the day's summary is posted when it says something new (alerts.webhook is for failures). */
  summary_webhook: z.url().optional(),
});

export const configSchema = z.strictObject({
  /** The warehouse file; relative paths are relative to the config file. */
  database: z.string().min(1).optional(),
  /** The published snapshot for BI tools (default: gold.duckdb beside the database). */
  publish: z.string().min(1).optional(),
  report: z.string().min(1).optional(),
  vars: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}),
  sources: z.array(sourceSchema).default([]),
  enrichment: enrichmentSchema.default({ enabled: true, provider: "local", embeddings: true, limits: {} }),
  analysis: analysisSchema.default({ enabled: true, days: 1 }),
  alerts: z.strictObject({ webhook: z.url() }).optional(),
  /** Names, handles and e-mails in silver and gold as keyed hashes; the key is $DUCKFORM_PSEUDONYM_KEY. */
  pseudonymize: z.boolean().default(false),
});

export type PipelineConfig = z.infer<typeof configSchema> & {
  /** The config file, or null for the bundled sample. */
  file: string | null;
};
export type SourceConfig = z.infer<typeof sourceSchema>;

/** A source's `retention`; calendar, HubSpot and Postgres sources take none (their rows are the user's own records). */
export function retentionOf(source: SourceConfig): { days: number } | undefined {
  return "retention" in source ? source.retention : undefined;
}

/**
 * Reads and validates `duckform.yaml`. Every error is a UsageError (exit 2) that names the key
 * path and the line it is on, so a typo in a cron job's config is found from the message alone.
 * Paths in it are resolved against the file's folder.
 */
export function readConfig(file: string): PipelineConfig {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`config ${path} does not exist`);
  return parseConfig(readFileSync(path, "utf8"), path);
}

export function parseConfig(text: string, path: string): PipelineConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = e.linePos?.[0].line ?? lines.linePos(e.pos[0]).line;
    throw new UsageError(`${path}:${line}: not valid YAML: ${e.message.split("\n")[0]}`);
  }
  const parsed = configSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
    const at = [...issue.path, ...keys.slice(0, 1)].map((k, i) => (typeof k === "number" ? `[${k}]` : `${i > 0 ? "." : ""}${String(k)}`));
    const line = lineOf(doc, lines, issue.path as (string | number)[], keys[0]);
    const what = keys.length > 0 ? `unknown key${keys.length > 1 ? "s" : ""} ${keys.map((k) => `"${k}"`).join(", ")}` : issue.message;
    throw new UsageError(`${path}:${line}: ${at.join("") || "(top level)"}: ${what}`);
  }
  const config = parsed.data;
  const base = dirname(path);
  const at = (p: string | undefined) => (p === undefined ? undefined : resolve(base, p));
  return {
    ...config,
    database: at(config.database),
    publish: at(config.publish),
    report: at(config.report),
    sources: config.sources.map((s) =>
      "paths" in s
        ? { ...s, paths: s.paths.map((p) => resolve(base, p)) }
        : s.kind === "postgres" && s.pglite
          ? { ...s, pglite: resolve(base, s.pglite) }
          : s,
    ),
    file: path,
  };
}

/**
 * The line of the key an issue is about: the unknown key itself, else the value at the path, else
 * the nearest ancestor that exists (a missing key is reported on the object that lacks it).
 */
function lineOf(doc: Document, lines: LineCounter, path: (string | number)[], unknownKey?: string): number {
  for (let n = path.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)) as Node | null | undefined;
    if (!node?.range) continue;
    if (n === path.length && unknownKey !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === unknownKey);
      const keyNode = pair?.key as Node | undefined;
      if (keyNode?.range) return lines.linePos(keyNode.range[0]).line;
    }
    if (n < path.length && isMap(node)) {
      // The value is missing (or not a node): point at its key if it is there.
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(path[n]));
      const keyNode = pair?.key as Node | undefined;
      if (keyNode?.range) return lines.linePos(keyNode.range[0]).line;
    }
    return lines.linePos(node.range[0]).line;
  }
  return 1;
}

/** Where in the config a var is set, for an error about its value. */
export function varLine(text: string, name: string): number | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const node = doc.getIn(["vars", name], true) as Node | undefined;
  return node?.range ? lines.linePos(node.range[0]).line : undefined;
}
