/**
 * Telegram HTML loader against the BeautifulSoup parser it replaces (../shared/bench/peer_bs4_telegram.py),
 * on the same generated whole-account export of ~4,000 chats and ~80,000 messages, in one run.
 * Ours is timed end to end: discover, parse on worker threads, land into a fresh DuckDB file.
 * Run: npx tsx bench/telegram.ts [chats] [messagesPerChat]
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { availableParallelism, loadavg } from "node:os";
import { Database } from "../runner/database.ts";
import { generateTelegramExport } from "../loaders/sample/telegramExport.ts";
import { loadTelegram } from "../loaders/telegram/load.ts";

const ROOT = join(import.meta.dirname, "..");
const OUT = join(ROOT, "bench/out");
const EXPORT = join(OUT, "telegram/DataExport_bench");
const PEER = join(ROOT, "../shared/bench/peer_bs4_telegram.py");
const chats = Number(process.argv[2] ?? 4000);
const perChat = Number(process.argv[3] ?? 20);
const RUNS = 3;

rmSync(join(OUT, "telegram"), { recursive: true, force: true });
let started = performance.now();
await generateTelegramExport(EXPORT, { chats, messagesPerChat: perChat, seed: 2024 });
const { files, bytes } = corpusSize(join(EXPORT, "chats"));
console.log(
  `corpus: ${chats} chats, ${files} page files, ${(bytes / 1e6).toFixed(1)} MB (generated in ${seconds(performance.now() - started)})`,
);

// The machine may be shared: the load average says how far wall times can be trusted, and CPU
// seconds (all threads, DuckDB's included; the peer's through /proc) are steadier under contention.
console.log(
  `load average before: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")} on ${availableParallelism()} cores`,
);
const ours: number[] = [];
const oursCpu: number[] = [];
let messages = 0;
for (let run = 0; run < RUNS; run++) {
  const file = join(OUT, "telegram.duckdb");
  rmSync(file, { force: true });
  rmSync(`${file}.wal`, { force: true });
  started = performance.now();
  const cpu = process.cpuUsage();
  const db = await Database.open(file);
  try {
    const { results } = await loadTelegram(db, [EXPORT]);
    messages = results.reduce((n, r) => n + r.rowsLanded, 0);
    const quarantined = results.reduce((n, r) => n + r.rowsQuarantined, 0);
    if (quarantined > 0) throw new Error(`${quarantined} messages quarantined from a generated export`);
  } finally {
    db.close();
  }
  ours.push(performance.now() - started);
  const used = process.cpuUsage(cpu);
  oursCpu.push((used.user + used.system) / 1000);
  console.log(
    `duckform run ${run + 1}: ${seconds(ours.at(-1)!)}, ${seconds(oursCpu.at(-1)!)} CPU (${messages} messages landed, ${availableParallelism()} parse threads)`,
  );
}

started = performance.now();
const childCpuBefore = childCpuMs();
const peer = spawnSync("/usr/bin/python3", [PEER, join(EXPORT, "chats"), join(OUT, "telegram_peer.json")], { encoding: "utf8" });
const peerMs = performance.now() - started;
const peerCpu = childCpuMs() - childCpuBefore;
if (peer.status !== 0) throw new Error(`peer failed: ${peer.stderr}`);
const peerMessages = Number(/messages (\d+)/.exec(peer.stdout)?.[1]);
console.log(`bs4 peer: ${seconds(peerMs)}, ${Number.isNaN(peerCpu) ? "?" : seconds(peerCpu)} CPU (${peer.stdout.trim()})`);
if (peerMessages !== messages) console.log(`warning: peer counted ${peerMessages} messages, duckform landed ${messages}`);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
console.log(
  `wall: duckform median ${seconds(median(ours))} (parse + land) vs bs4 ${seconds(peerMs)} (parse only): ${(peerMs / median(ours)).toFixed(1)}× faster`,
);
console.log(
  `CPU:  duckform median ${seconds(median(oursCpu))} vs bs4 ${seconds(peerCpu)}: ${(peerCpu / median(oursCpu)).toFixed(1)}× less`,
);

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

/** CPU time of reaped children (cutime + cstime in /proc/self/stat), in ms; NaN off Linux. */
function childCpuMs(): number {
  if (!existsSync("/proc/self/stat")) return NaN;
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 16 and 17 of the file, counted from 1; the split starts at field 3. Ticks are 1/100 s on Linux.
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
