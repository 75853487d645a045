import { UserError } from "../runner/errors.ts";
import type { Usage } from "./providers/provider.ts";

/** USD per million tokens, prompt and completion. */
export interface Price {
  input: number;
  output: number;
  /** False when the model's price is not known: costs are then 0 and the summary says so. */
  known: boolean;
}

// List prices of common models (USD / 1M tokens). Pass --input-price/--output-price for others.
const KNOWN: Record<string, [number, number]> = {
  "gpt-4o-mini": [0.15, 0.6],
  "gpt-4o": [2.5, 10],
  "gpt-4.1": [2, 8],
  "gpt-4.1-mini": [0.4, 1.6],
  "gpt-4.1-nano": [0.1, 0.4],
  "gpt-5-mini": [0.25, 2],
  "gpt-5-nano": [0.05, 0.4],
  "text-embedding-3-small": [0.02, 0],
  "text-embedding-3-large": [0.13, 0],
};

/** The price of a model: explicit prices win, local models are free, else the list above. */
export function priceOf(provider: string, model: string, explicit: { input?: number; output?: number } = {}): Price {
  if (explicit.input !== undefined || explicit.output !== undefined) {
    return { input: explicit.input ?? 0, output: explicit.output ?? 0, known: true };
  }
  if (provider === "local") return { input: 0, output: 0, known: true };
  const listed = KNOWN[model] ?? KNOWN[model.replace(/-\d{4}-\d{2}-\d{2}$/, "")];
  return listed ? { input: listed[0], output: listed[1], known: true } : { input: 0, output: 0, known: false };
}

export function costOf(usage: Usage, price: Price): number {
  return (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
}

/** A spending limit: total tokens, or US dollars at the model's price. */
export type Budget = { kind: "tokens"; limit: number } | { kind: "usd"; limit: number };

/** Parses `--budget`: `50000`, `50k`, `1.5M` (tokens) or `$2`, `2usd`, `0.5 USD` (dollars). */
export function parseBudget(value: string): Budget {
  const text = value.trim();
  const usd = /^\$\s*(\d+(?:\.\d+)?)$/.exec(text) ?? /^(\d+(?:\.\d+)?)\s*usd$/i.exec(text);
  if (usd) return { kind: "usd", limit: Number(usd[1]) };
  const tokens = /^(\d+(?:\.\d+)?)\s*([kKmM]?)(?:\s*tokens?)?$/.exec(text);
  if (tokens) {
    const scale = { "": 1, k: 1e3, m: 1e6 }[tokens[2]!.toLowerCase() as "" | "k" | "m"];
    return { kind: "tokens", limit: Math.floor(Number(tokens[1]) * scale) };
  }
  throw new UserError(`--budget: expected tokens (50000, 50k, 1.5M) or dollars ($2, 2usd), got "${value}"`);
}

/** How much of a budget `usage` takes, in the budget's own unit. */
export function budgetSpend(budget: Budget, usage: Usage, price: Price): number {
  return budget.kind === "tokens" ? usage.inputTokens + usage.outputTokens : costOf(usage, price);
}

/**
 * Keeps a run inside its budget across tasks: a request is allowed only if what is spent, plus
 * what requests in flight may spend, plus its own estimate stays within the limit. With no
 * budget everything is allowed.
 */
export interface BudgetGuard {
  readonly budget: Budget | undefined;
  /** Reserves `estimate` (in the budget's unit) and returns true, or returns false and marks the budget reached. */
  claim(estimate: number): boolean;
  /** Replaces a claim by what the request really took (0 when it failed before using anything). */
  settle(claimed: number, actual: number): void;
  readonly reached: boolean;
  readonly spent: number;
}

export function createBudgetGuard(budget: Budget | undefined): BudgetGuard {
  let spent = 0;
  let reserved = 0;
  let reached = false;
  return {
    budget,
    claim(estimate) {
      if (budget && spent + reserved + estimate > budget.limit) {
        reached = true;
        return false;
      }
      reserved += estimate;
      return true;
    },
    settle(claimed, actual) {
      reserved -= claimed;
      spent += actual;
    },
    get reached() {
      return reached;
    },
    get spent() {
      return spent;
    },
  };
}
