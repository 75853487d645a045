import { InvalidArgumentError, type Command } from "commander";
import { parseBudgetFlag, parsePositive, parseProvider } from "./flags.ts";
import { parseCount, parsePositiveInt } from "../runner/flags.ts";
import type { Budget } from "./cost.ts";
import { createProgressBar } from "./progress.ts";
import { providerChoice, type ProviderChoice } from "./providers/choice.ts";
import { describeSummary } from "./summary.ts";

interface ProviderFlags {
  provider: string;
  model?: string;
  embeddingModel?: string;
  baseUrl?: string;
  timeout?: number;
  batchSize?: number;
}

/** `duckform enrich` and `duckform search`. */
export function registerEnrichmentCommands(program: Command): void {
  const withProvider = (command: Command) =>
    command
      .option("--project <dir>", "Dataform project directory", ".")
      .option("--database <file>", "DuckDB database file (default: the project's)")
      .option("--provider <name>", "local (offline, the default) or openai (any OpenAI-compatible server)", parseProvider, "local")
      .option("--model <name>", "chat model for --provider openai (default: $OPENAI_MODEL, else gpt-4o-mini)")
      .option("--embedding-model <name>", "embedding model for --provider openai (default: text-embedding-3-small)")
      .option("--base-url <url>", "OpenAI-compatible server (default: $OPENAI_BASE_URL, else OpenAI); the key comes from $OPENAI_API_KEY")
      .option("--timeout <seconds>", "per request, answer included (default 60)", parsePositive)
      .option("--batch-size <n>", "messages per request (default: 20 for openai)", parsePositiveInt);

  withProvider(program.command("enrich"))
    .summary("Annotate new messages with a category, topics and entities (offline rules or an LLM)")
    .description(
      "Annotate new or changed messages of silver.int_messages with a category, topics and entities " +
        "(enrichment.message_annotations); run `duckform run` afterwards to build the topic and entity tables.",
    )
    .option("--embeddings", "also embed messages for `duckform search`")
    .option("--budget <amount>", "stop cleanly at this many tokens (50000, 50k) or dollars ($2, 2usd)", parseBudgetFlag)
    .option("--dry-run", "estimate requests, tokens and cost; send nothing, annotate nothing")
    .option("--limit <n>", "annotate at most n distinct texts this run", parsePositiveInt)
    .option("--concurrency <n>", "requests in flight (default 4)", parsePositiveInt)
    .option("--rpm <n>", "requests per minute at most", parsePositive)
    .option("--tpm <n>", "tokens per minute at most", parsePositive)
    .option("--retries <n>", "retries per request on 429, 5xx, timeouts (default 5)", parseCount)
    .option("--deadline <seconds>", "give up on the provider when no request has succeeded for this long (default 300)", parsePositive)
    .option("--input-price <usd>", "USD per million prompt tokens, for models without a listed price", parseAmount)
    .option("--output-price <usd>", "USD per million completion tokens", parseAmount)
    .option("--no-progress", "no progress bar")
    .option("--json", "print the run's task summaries as JSON")
    .action(async (options: ProviderFlags & EnrichFlags) => {
      const bar = createProgressBar(options.progress && !options.json ? undefined : false);
      let result;
      try {
        // Loaded on use: the providers pull in openai, compromise and zod, which every other
        // command would otherwise pay for at start-up.
        const { enrich } = await import("./enrich.ts");
        result = await enrich({
          projectDir: options.project,
          database: options.database,
          provider: providerOf(options),
          budget: options.budget,
          dryRun: options.dryRun,
          embeddings: options.embeddings,
          limit: options.limit,
          concurrency: options.concurrency,
          rateLimits: { requestsPerMinute: options.rpm, tokensPerMinute: options.tpm },
          retry: options.retries === undefined ? undefined : { retries: options.retries },
          circuit: options.deadline === undefined ? undefined : { deadlineMs: options.deadline * 1000 },
          prices: { input: options.inputPrice, output: options.outputPrice },
          onProgress: bar.update,
        });
      } finally {
        bar.stop();
      }
      if (options.json) {
        console.log(JSON.stringify(result, null, 2));
        return;
      }
      for (const task of result.tasks) console.log(`enrich: ${describeSummary(task)}`);
      for (const task of result.tasks) {
        if (task.status === "provider_unavailable") {
          console.error(
            `duckform: ${task.note ?? `${task.provider} unavailable`}. ${task.messagesLeft} messages were not ${task.task === "annotate" ? "annotated" : "embedded"} ` +
              "and stay pending for the next `duckform enrich`; `duckform run` still builds every table, without their categories, topics and entities.",
          );
        } else if (task.status === "budget_reached") {
          console.error(`duckform: budget reached; ${task.messagesLeft} messages left for the next run.`);
        }
      }
      if (result.tasks.some((t) => t.messagesDeadLettered > 0)) {
        console.error(
          "duckform: some messages were dead-lettered (enrichment.annotation_dead_letters has the reasons); the next run tries them again.",
        );
      }
    });

  withProvider(program.command("search"))
    .description("Find the messages nearest to a query by embedding (after `duckform enrich --embeddings`)")
    .argument("<query>", "what to look for")
    .option("--limit <n>", "results", parsePositiveInt, 10)
    .option("--json", "print the results as JSON")
    .action(async (query: string, options: ProviderFlags & { project: string; database?: string; limit: number; json?: boolean }) => {
      const { search } = await import("./enrich.ts");
      const hits = await search({
        projectDir: options.project,
        database: options.database,
        provider: providerOf(options),
        query,
        limit: options.limit,
      });
      if (options.json) {
        console.log(JSON.stringify(hits, null, 2));
        return;
      }
      for (const h of hits) {
        console.log(
          `${h.similarity.toFixed(3)}  ${h.sent_at ?? ""}  ${h.source}/${h.chat_name ?? "?"}  ${h.author_name ?? "?"}: ${h.text.replace(/\s+/g, " ").slice(0, 160)}`,
        );
      }
      if (hits.length === 0) console.log("no messages found");
    });
}

interface EnrichFlags {
  project: string;
  database?: string;
  embeddings?: boolean;
  budget?: Budget;
  dryRun?: boolean;
  limit?: number;
  concurrency?: number;
  rpm?: number;
  tpm?: number;
  retries?: number;
  deadline?: number;
  inputPrice?: number;
  outputPrice?: number;
  progress: boolean;
  json?: boolean;
}

function providerOf(flags: ProviderFlags): ProviderChoice {
  return providerChoice({ ...flags, baseURL: flags.baseUrl, timeoutSeconds: flags.timeout });
}

function parseAmount(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected an amount ≥ 0, got "${value}"`);
  return n;
}
