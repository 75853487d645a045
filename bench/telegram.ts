/**
 * `duckform load telegram` against the BeautifulSoup parser it replaces (../shared/bench/peer_bs4_telegram.py),
 * on the same generated whole-account export of ~4,000 chats and ~80,000 messages, in one run.
 * Both are timed as a user runs them: each is its own process under GNU time (wall, CPU of all its
 * threads, peak RSS), ours end to end from node's start (discover, parse, land into a fresh DuckDB
 * file). The two alternate, so that a change in the machine's load falls on both.
 * Run: npx tsx bench/telegram.ts [chats] [messagesPerChat] [runs]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { freshBundle } from "../bin/bundle.js";
import { generateTelegramExport } from "../loaders/sample/telegramExport.ts";

const ROOT = join(import.meta.dirname, "..");
const OUT = join(ROOT, "bench/out");
const EXPORT = join(OUT, "telegram/DataExport_bench");
const PEER = join(ROOT, "../shared/bench/peer_bs4_telegram.py");
const TIME = "/usr/bin/time"; // GNU time, installed by scripts/testDependencies.sh
const chats = Number(process.argv[2] ?? 4000);
const perChat = Number(process.argv[3] ?? 20);
const RUNS = Number(process.argv[4] ?? 3);

interface Measure {
  wall: number;
  cpu: number;
  rssMb: number;
  stdout: string;
}

rmSync(join(OUT, "telegram"), { recursive: true, force: true });
const started = performance.now();
await generateTelegramExport(EXPORT, { chats, messagesPerChat: perChat, seed: 2024 });
const { files, bytes } = corpusSize(join(EXPORT, "chats"));
console.log(
  `corpus: ${chats} chats, ${files} page files, ${(bytes / 1e6).toFixed(1)} MB (generated in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
);
// The CLI and its parse workers start from bundles built on the first run after a change (bin/bundle.js);
// built here, no timed run pays for that.
await freshBundle("cli");
await freshBundle("telegram-worker");
// The machine may be shared: the load average says how far wall times can be trusted; CPU
// seconds are steadier under contention.
console.log(`load average before: ${loadAverage()} on ${availableParallelism()} cores`);

const scratch = mkdtempSync(join(tmpdir(), "duckform-bench-"));
const ours: Measure[] = [];
const peer: Measure[] = [];
try {
  for (let run = 0; run < RUNS; run++) {
    const both = [
      () => ours.push(runOurs(join(scratch, `run${run}.duckdb`))),
      () => peer.push(timed("/usr/bin/python3", [PEER, join(EXPORT, "chats"), join(scratch, "peer.json")])),
    ];
    for (const next of run % 2 === 0 ? both : both.reverse()) next();
    console.log(`run ${run + 1}: duckform ${describe(ours.at(-1)!)} | bs4 peer ${describe(peer.at(-1)!)}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const landed = Number(/([\d,]+) rows landed/.exec(ours[0]!.stdout)![1]!.replaceAll(",", ""));
const peerMessages = Number(/messages (\d+)/.exec(peer[0]!.stdout)?.[1]);
if (peerMessages !== landed) console.log(`warning: the peer counted ${peerMessages} messages, duckform landed ${landed}`);
console.log(`load average after: ${loadAverage()}`);
const [o, p] = [medians(ours), medians(peer)];
console.log(`duckform (median of ${RUNS}): ${describe(o)}; ${landed} messages landed`);
console.log(`bs4 peer (median of ${RUNS}): ${describe(p)}`);
console.log(`wall: ${(p.wall / o.wall).toFixed(1)}× faster; CPU: ${(p.cpu / o.cpu).toFixed(1)}× less`);
// Each run's pair ran back to back, so its ratio is the one least moved by a change in the machine's load.
const ratios = (of: (m: Measure) => number) => ours.map((m, i) => (of(peer[i]!) / of(m)).toFixed(1)).join(", ");
console.log(`per run: wall ${ratios((m) => m.wall)}; CPU ${ratios((m) => m.cpu)}`);

function runOurs(database: string): Measure {
  const measure = timed(process.execPath, [join(ROOT, "bin/duckform.js"), "load", "telegram", EXPORT, "--database", database]);
  const quarantined = Number(/([\d,]+) quarantined/.exec(measure.stdout)?.[1]?.replaceAll(",", "") ?? NaN);
  if (quarantined !== 0) throw new Error(`duckform quarantined ${quarantined} messages of a generated export:\n${measure.stdout}`);
  return measure;
}

/** Runs a command under GNU time; its figures go to a file of their own, apart from the command's output. */
function timed(command: string, args: string[]): Measure {
  const figures = join(scratch, "time.txt");
  const child = spawnSync(TIME, ["-o", figures, "-f", "%e %U %S %M", command, ...args], { encoding: "utf8", cwd: ROOT });
  if (child.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${child.status}):\n${child.stderr}`);
  const [wall, user, system, rssKb] = readFileSync(figures, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number);
  return { wall: wall!, cpu: user! + system!, rssMb: rssKb! / 1024, stdout: child.stdout };
}

function medians(measures: Measure[]): Measure {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return {
    wall: median(measures.map((m) => m.wall)),
    cpu: median(measures.map((m) => m.cpu)),
    rssMb: median(measures.map((m) => m.rssMb)),
    stdout: "",
  };
}

function describe(m: Measure): string {
  return `${m.wall.toFixed(2)} s wall, ${m.cpu.toFixed(2)} s CPU, ${m.rssMb.toFixed(0)} MB peak RSS`;
}

function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}

function corpusSize(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const chat of readdirSync(dir)) {
    for (const page of readdirSync(join(dir, chat))) {
      files++;
      bytes += statSync(join(dir, chat, page)).size;
    }
  }
  return { files, bytes };
}
