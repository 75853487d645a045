import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Tests run real DuckDB files and real pipelines; a few take several seconds on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
