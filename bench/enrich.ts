/**
 * Enrichment throughput against a rate-limited provider: the mock OpenAI-compatible server with
 * 300 ms latency and a fixed requests-per-minute limit (429 + Retry-After above it). Sustained
 * throughput = successful requests per minute between the first request and the last answer,
 * as a ratio of the limit (target ≥ 0.90). The peer, in the same run: the same client without
 * its own pacing, left to find the limit through 429s and backoff.
 * Run: npx tsx bench/enrich.ts [--rpm 600] [--requests 150]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { enrich } from "../enrichment/enrich.ts";
import { distinctMessages, writeEnrichmentDatabase } from "../tests/util/enrichmentDatabase.ts";
import { startMockOpenai } from "../tests/util/mockOpenai.ts";

const ROOT = resolve(import.meta.dirname, "..");
const { values } = parseArgs({ options: { rpm: { type: "string", default: "600" }, requests: { type: "string", default: "150" } } });
const RPM = Number(values.rpm);
const REQUESTS = Number(values.requests);
const LATENCY_MS = 300;
const BATCH = 10;

interface Measured {
  perMinute: number;
  ok: number;
  limited: number;
  seconds: number;
}

async function measure(paced: boolean): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), "duckform-bench-enrich-"));
  const server = await startMockOpenai({ latencyMs: LATENCY_MS, requestsPerMinute: RPM });
  try {
    const file = await writeEnrichmentDatabase(join(dir, "duckform.duckdb"), ROOT, distinctMessages(REQUESTS * BATCH));
    const [task] = (
      await enrich({
        projectDir: ROOT,
        database: file,
        provider: { name: "openai", model: "bench-model", baseURL: server.url, apiKey: "bench", batchSize: BATCH, timeoutMs: 10_000 },
        // Enough in flight to cover the latency: at 10 requests/s and 0.3 s each, 3 would do.
        concurrency: 8,
        rateLimits: paced ? { requestsPerMinute: RPM } : {},
        retry: { retries: 20, minDelayMs: 100, maxDelayMs: 2000 },
      })
    ).tasks;
    if (task!.messagesDone !== REQUESTS * BATCH) throw new Error(`only ${task!.messagesDone} of ${REQUESTS * BATCH} messages annotated`);
    const ok = server.requests.filter((r) => r.status === 200);
    const first = Math.min(...server.requests.map((r) => r.receivedAt));
    const last = Math.max(...ok.map((r) => r.receivedAt)) + LATENCY_MS;
    const seconds = (last - first) / 1000;
    return { perMinute: (ok.length * 60) / seconds, ok: ok.length, limited: server.requests.length - ok.length, seconds };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const paced = await measure(true);
const unpaced = await measure(false);
const line = (name: string, m: Measured) =>
  `${name} ${m.perMinute.toFixed(1)} requests/min over ${m.seconds.toFixed(1)} s (${m.ok} ok, ${m.limited} refused with 429)  ratio ${(m.perMinute / RPM).toFixed(3)}x`;
console.log(`mock server: ${LATENCY_MS} ms latency, limit ${RPM} requests/min; ${REQUESTS} requests of ${BATCH} messages each`);
console.log(line("enrich, paced by its limiter:     ", paced), "(target >= 0.90x)");
console.log(line("enrich, no client pacing (peer):  ", unpaced));
console.log(`paced / unpaced: ${(paced.perMinute / unpaced.perMinute).toFixed(2)}x`);
