import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Tests run real DuckDB files and real pipelines; a few take several seconds on 2 cores.
    testTimeout: 60_000,
    // Vitest's default on 2 cores is one worker; most files wait on child processes (the CLI, a
    // pipeline, PGlite) or DuckDB I/O, so two overlap: the whole suite in 730 s instead of 1,044 s
    // on the same machine, the same 335 tests passing.
    maxWorkers: 2,
    minWorkers: 1,
    hookTimeout: 60_000,
  },
});
