import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { parseCount, parsePositiveInt } from "../../runner/flags.ts";

describe("counting flags", () => {
  it("take whole numbers from 1, or from 0 for a count", () => {
    expect(parsePositiveInt("4")).toBe(4);
    expect(parseCount("0")).toBe(0);
    expect(parseCount("12")).toBe(12);
  });

  it("refuse anything else as a usage error saying what was expected", () => {
    expect(() => parsePositiveInt("0")).toThrow(new InvalidArgumentError('expected a whole number ≥ 1, got "0"'));
    expect(() => parsePositiveInt("2.5")).toThrow(InvalidArgumentError);
    expect(() => parseCount("-1")).toThrow('expected a whole number ≥ 0, got "-1"');
    expect(() => parseCount("ten")).toThrow('expected a whole number ≥ 0, got "ten"');
  });
});
