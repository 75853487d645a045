import { randomUUID } from "node:crypto";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Database } from "../runner/database.ts";
import { UserError } from "../runner/errors.ts";
import { openProjectDatabase } from "../runner/project.ts";
import { annotateMessages } from "./annotate.ts";
import { createCircuit, DEFAULT_CIRCUIT, type CircuitPolicy } from "./circuit.ts";
import { createBudgetGuard, priceOf, type Budget } from "./cost.ts";
import { embedMessages } from "./embed.ts";
import { loadLexicon, type Lexicon } from "./lexicon.ts";
import type { ProviderChoice } from "./providers/choice.ts";
import { createProvider } from "./providers/createProvider.ts";
import type { Provider } from "./providers/provider.ts";
import { RateLimiter, type RateLimits } from "./rateLimiter.ts";
import { createRedactor, type Redactor } from "./redact.ts";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry.ts";
import { searchMessages, type SearchHit } from "./search.ts";
import { recordSummary, type Progress, type TaskSummary } from "./summary.ts";
import { enrichmentTables, type EnrichmentTables } from "./tables.ts";

/** How calls to a provider are spent and paced: what `enrich` and `analyze users` share. */
export interface CallOptions {
  budget?: Budget;
  dryRun?: boolean;
  concurrency?: number;
  rateLimits?: RateLimits;
  retry?: Partial<RetryPolicy>;
  /** When a remote provider counts as down (`deadlineMs` is `--deadline`). */
  circuit?: Partial<CircuitPolicy>;
  /** Answers rejected by validation are asked again this many times in all, then dead-lettered. */
  maxInvalidAttempts?: number;
}

export interface EnrichOptions extends CallOptions {
  projectDir: string;
  database?: string;
  provider: ProviderChoice;
  embeddings?: boolean;
  /** Distinct texts to annotate at most. */
  limit?: number;
  prices?: { input?: number; output?: number; embeddingInput?: number };
  onProgress?: (progress: Progress) => void;
}

export interface EnrichResult {
  runId: string;
  tasks: TaskSummary[];
}

/**
 * `duckform enrich`: annotates the new or changed messages of silver.int_messages and, with `embeddings`, embeds them. A
 * provider that is down or a budget that runs out ends the run early but cleanly: what was done
 * is kept, the rest waits for the next run, and the task's status says which. A provider that
 * stops answering counts as down after a few timeouts in a row or the deadline, whichever comes
 * first (circuit.ts). It reads and writes the tables `duckform run` made (enrichment's own
 * are the operations in definitions/enrichment/) and never runs the project itself.
 */
export async function enrich(options: EnrichOptions): Promise<EnrichResult> {
  const tables = enrichmentTables(options.projectDir);
  const runId = randomUUID();
  const writes = [tables.annotations, tables.deadLetters, tables.runs, ...(options.embeddings ? [tables.embeddings] : [])];
  return withEnrichment(options, tables, writes, async ({ connection, provider, lexicon, redact }) => {
    const guard = createBudgetGuard(options.budget);
    const limiter = provider.remote ? new RateLimiter(options.rateLimits ?? {}) : null;
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    // The local provider is in-process CPU work: more than one batch at a time gains nothing.
    const concurrency = provider.remote ? (options.concurrency ?? 4) : 1;
    const price = priceOf(provider.name, provider.model, { input: options.prices?.input, output: options.prices?.output });
    if (options.budget?.kind === "usd" && !price.known) {
      throw new UserError(
        `--budget in dollars needs the price of ${provider.model}: pass --input-price and --output-price (USD per million tokens)`,
      );
    }
    // The local provider is not waited on: a long local run is work, not a provider gone quiet.
    const circuit = createCircuit(provider.name, {
      ...DEFAULT_CIRCUIT,
      ...(provider.remote ? {} : { deadlineMs: Infinity }),
      ...options.circuit,
    });
    try {
      const tasks: TaskSummary[] = [];
      const annotated = await annotateMessages(connection, {
        runId,
        provider,
        tables,
        categories: lexicon.categories.map((c) => c.category),
        redact,
        limiter,
        retry,
        circuit,
        concurrency,
        maxInvalidAttempts: options.maxInvalidAttempts ?? 3,
        price,
        guard,
        dryRun: options.dryRun,
        limit: options.limit,
        onProgress: options.onProgress,
      });
      tasks.push(annotated);
      if (options.embeddings) {
        const embeddingPrice = priceOf(
          provider.name,
          provider.embeddingModel,
          options.prices?.embeddingInput === undefined ? {} : { input: options.prices.embeddingInput },
        );
        tasks.push(
          await embedMessages(connection, {
            runId,
            provider,
            tables,
            redact,
            limiter,
            retry,
            circuit,
            concurrency,
            price: embeddingPrice,
            guard,
            dryRun: options.dryRun,
            onProgress: options.onProgress,
          }),
        );
      }
      for (const task of tasks) await recordSummary(connection, tables.runs, task);
      return { runId, tasks };
    } finally {
      circuit.close();
    }
  });
}

/** `duckform search`: the messages nearest to a query, by embedding. */
export async function search(options: {
  projectDir: string;
  database?: string;
  provider: ProviderChoice;
  query: string;
  limit: number;
}): Promise<SearchHit[]> {
  const tables = enrichmentTables(options.projectDir);
  return withEnrichment(options, tables, [tables.embeddings], ({ connection, provider, redact }) =>
    searchMessages(connection, { provider, tables, redact, query: options.query, limit: options.limit }),
  );
}

interface Context {
  db: Database;
  connection: DuckDBConnection;
  lexicon: Lexicon;
  provider: Provider;
  redact: Redactor;
}

async function withEnrichment<T>(
  options: { projectDir: string; database?: string; provider: ProviderChoice },
  tables: EnrichmentTables,
  uses: [string, string][],
  work: (context: Context) => Promise<T>,
): Promise<T> {
  const db = await openProjectDatabase({ project: options.projectDir, database: options.database });
  try {
    return await db.withConnection(async (connection) => {
      for (const table of [tables.messages, ...uses]) await requireTable(connection, table);
      const lexicon = await loadLexicon(connection, tables);
      const provider = createProvider(options.provider, lexicon);
      return work({ db, connection, lexicon, provider, redact: createRedactor(lexicon.identities) });
    });
  } finally {
    db.close();
  }
}

/** Enrichment reads what `duckform run` built; a table it lacks means the project was not run on this database. */
export async function requireTable(connection: DuckDBConnection, [schema, name]: [string, string]): Promise<void> {
  const reader = await connection.runAndReadAll(
    "select count(*) from information_schema.tables where table_catalog = current_database() and table_schema = ? and table_name = ?",
    [schema, name],
  );
  if (Number(reader.getRows()[0]?.[0] ?? 0) === 0)
    throw new UserError(`${schema}.${name} does not exist: build it first with \`duckform run\``);
}
