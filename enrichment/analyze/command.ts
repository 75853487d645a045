import { InvalidArgumentError, type Command } from "commander";
import { parseBudgetFlag, parsePositive, parseProvider } from "../flags.ts";
import { parseCount, parsePositiveInt } from "../../runner/flags.ts";
import type { Budget } from "../cost.ts";
import { providerChoice } from "../providers/choice.ts";

interface AnalyzeFlags {
  project: string;
  database?: string;
  provider: string;
  model?: string;
  baseUrl?: string;
  timeout?: number;
  date?: string;
  days?: number;
  maxUsersPerDay?: number;
  budget?: Budget;
  dryRun?: boolean;
  concurrency?: number;
  rpm?: number;
  tpm?: number;
  retries?: number;
  json?: boolean;
}

/** `duckform analyze users` and `duckform summary`. */
export function registerAnalysisCommands(program: Command): void {
  const analyze = program.command("analyze").description("Per-user LLM analysis of product-market fit signals");
  analyze
    .command("users")
    .description(
      "Analyse each consenting person active on the day (messages, recent history, behaviour) into use cases, friction points, " +
        "value and pay signals, sentiment and churn risk (enrichment.user_insights), then segment everyone by behaviour " +
        "(enrichment.user_segments); run `duckform run` afterwards to build fct_user_insights, rpt_pmf_signals and dim_user_segments.",
    )
    .option("--project <dir>", "Dataform project directory", ".")
    .option("--database <file>", "DuckDB database file (default: the project's)")
    .option("--provider <name>", "local (offline rules, the default) or openai (any OpenAI-compatible server)", parseProvider, "local")
    .option("--model <name>", "chat model for --provider openai (default: $OPENAI_MODEL, else gpt-4o-mini)")
    .option("--base-url <url>", "OpenAI-compatible server (default: $OPENAI_BASE_URL); the key comes from $OPENAI_API_KEY")
    .option("--timeout <seconds>", "per request, answer included (default 60)", parsePositive)
    .option("--date <YYYY-MM-DD>", "the (last) day to analyse (default: the latest day anyone was active)", parseDate)
    .option("--days <n>", "analyse the n days ending at --date (default 1)", parsePositiveInt)
    .option("--max-users-per-day <n>", "everyone up to n a day; above, a stratified sample plus every anomaly", parsePositiveInt)
    .option("--budget <amount>", "stop cleanly at this many tokens (50k) or dollars ($2)", parseBudgetFlag)
    .option("--dry-run", "estimate requests and tokens; send nothing, write nothing")
    .option("--concurrency <n>", "requests in flight (default 4)", parsePositiveInt)
    .option("--rpm <n>", "requests per minute at most", parsePositive)
    .option("--tpm <n>", "tokens per minute at most", parsePositive)
    .option("--retries <n>", "retries per request on 429, 5xx, timeouts (default 5)", parseCount)
    .option("--json", "print the run's report as JSON")
    .action(async (flags: AnalyzeFlags) => {
      const { analyzeUsers } = await import("./analyze.ts");
      const { describeAnalysis } = await import("./describe.ts");
      const result = await analyzeUsers({
        projectDir: flags.project,
        database: flags.database,
        provider: providerChoice({ provider: flags.provider, model: flags.model, baseURL: flags.baseUrl, timeoutSeconds: flags.timeout }),
        date: flags.date,
        days: flags.days,
        maxUsersPerDay: flags.maxUsersPerDay ?? null,
        budget: flags.budget,
        dryRun: flags.dryRun,
        concurrency: flags.concurrency,
        rateLimits: { requestsPerMinute: flags.rpm, tokensPerMinute: flags.tpm },
        retry: flags.retries === undefined ? undefined : { retries: flags.retries },
      });
      if (flags.json) console.log(JSON.stringify(result, null, 2));
      else for (const line of describeAnalysis(result)) console.log(line);
    });

  program
    .command("summary")
    .description("Write the day's product-market-fit summary as Markdown (summary-<date>.md beside the report): aggregates only, no names")
    .option("--project <dir>", "Dataform project directory", ".")
    .option("--database <file>", "DuckDB database file (default: the project's)")
    .option("--date <YYYY-MM-DD>", "the day (default: the latest analysed)", parseDate)
    .option("--out-dir <dir>", "where to write it (default: beside the database, where the report is)")
    .option("--webhook <url>", "also post it to this Slack-compatible webhook, when something is new")
    .action(async (flags: { project: string; database?: string; date?: string; outDir?: string; webhook?: string }) => {
      const { writeSummary } = await import("./dailySummary.ts");
      const written = await writeSummary({
        projectDir: flags.project,
        database: flags.database,
        date: flags.date,
        outDir: flags.outDir,
        webhook: flags.webhook,
      });
      if (!written.file) console.log(`duckform: ${written.note}; run \`duckform pipeline\` (or run, then analyze users) first`);
      else console.log(`Summary written to ${written.file}${written.posted ? " and posted" : written.note ? ` (${written.note})` : ""}`);
    });
}

function parseDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value)))
    throw new InvalidArgumentError(`expected a date YYYY-MM-DD, got "${value}"`);
  return value;
}
