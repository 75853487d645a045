/**
 * Compile benchmark: duckform's in-process compile against `dataform compile` (the official
 * CLI, which spawns a worker process and runs the project in vm2), on the same generated
 * project, side by side in one run. Run: npx tsx bench/compile.ts
 */
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { compileProject } from "../runner/compile.ts";
import { generateProject } from "./project.ts";

const ROOT = resolve(import.meta.dirname, "..");
const dir = join(ROOT, "bench", "out", "compile-project");
generateProject(dir, { rows: 1000, layers: 10, width: 20 });
const ROUNDS = 5;

function time(work: () => void): number {
  const start = performance.now();
  work();
  return (performance.now() - start) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const inProcess: number[] = [];
const duckformCli: number[] = [];
const dataformCli: number[] = [];
let actions = 0;
for (let round = 0; round < ROUNDS; round++) {
  inProcess.push(
    time(() => {
      const graph = compileProject(dir);
      actions = graph.tables.length + graph.assertions.length;
    }),
  );
  duckformCli.push(
    time(() => execFileSync(process.execPath, [join(ROOT, "bin", "duckform.js"), "compile", dir, "--json"], { stdio: "ignore" })),
  );
  dataformCli.push(
    time(() => execFileSync(join(ROOT, "node_modules", ".bin", "dataform"), ["compile", dir, "--json"], { stdio: "ignore" })),
  );
}

const official = median(dataformCli);
console.log(`project: ${actions} tables and assertions; median of ${ROUNDS} rounds`);
console.log(`dataform compile (official CLI):   ${official.toFixed(3)} s`);
console.log(
  `duckform compile (CLI process):    ${median(duckformCli).toFixed(3)} s  ratio ${(median(duckformCli) / official).toFixed(3)}x`,
);
console.log(
  `compileProject (in-process):       ${median(inProcess).toFixed(3)} s  ratio ${(median(inProcess) / official).toFixed(3)}x  (target <= 0.25x)`,
);
