import { describe, expect, it } from "vitest";
import { createBudgetGuard, parseBudget, priceOf } from "../../enrichment/cost.ts";

describe("budgets and prices", () => {
  it("reads a budget as tokens or dollars", () => {
    expect(parseBudget("50000")).toEqual({ kind: "tokens", limit: 50000 });
    expect(parseBudget("1.5M")).toEqual({ kind: "tokens", limit: 1_500_000 });
    expect(parseBudget("$2.50")).toEqual({ kind: "usd", limit: 2.5 });
    expect(parseBudget("0.5 USD")).toEqual({ kind: "usd", limit: 0.5 });
    expect(() => parseBudget("lots")).toThrow(/expected tokens/);
  });

  it("knows listed prices, free local models, and says when it does not know", () => {
    expect(priceOf("openai", "gpt-4o-mini-2024-07-18")).toEqual({ input: 0.15, output: 0.6, known: true });
    expect(priceOf("local", "local-rules-v1")).toEqual({ input: 0, output: 0, known: true });
    expect(priceOf("openai", "llama3.1:8b")).toMatchObject({ known: false });
    expect(priceOf("openai", "llama3.1:8b", { input: 0.1 })).toEqual({ input: 0.1, output: 0, known: true });
  });
});

describe("the budget guard", () => {
  it("refuses a request whose estimate, with what is spent and in flight, passes the limit", () => {
    const guard = createBudgetGuard({ kind: "tokens", limit: 100 });
    expect(guard.claim(60)).toBe(true);
    expect(guard.claim(50)).toBe(false);
    expect(guard.reached).toBe(true);
    guard.settle(60, 30);
    expect(guard.spent).toBe(30);
    expect(guard.claim(50)).toBe(true);
  });
});
