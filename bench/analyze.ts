/**
 * `analyze users` throughput against a rate-limited provider: 1,000 consenting people active on
 * one day, each with a few messages and plays, analysed through the mock OpenAI-compatible
 * server with 300 ms latency and a 600 requests/min limit (429 + Retry-After above it).
 * The run's requests are the 1,000 analyses, then the segmentation's: the people's messages
 * embedded through /v1/embeddings (64 a request) and one labelling request, all through the same
 * limiter. Sustained throughput = successful requests per minute between the first request and
 * the last answer, as a ratio of the limit (target ≥ 0.90); then the same run again, which must
 * send 0 requests (every user-day, embedding and label is cached). The peer, in the same run: the same client without its
 * own pacing, left to find the limit through 429s and backoff (on --peer-users people).
 * Run: npx tsx bench/analyze.ts [--users 1000] [--rpm 600] [--peer-users 300]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { analyzeUsers } from "../enrichment/analyze/analyze.ts";
import { writeAnalysisDatabase, type TestEvent } from "../tests/util/analysisDatabase.ts";
import type { TestMessage } from "../tests/util/enrichmentDatabase.ts";
import { startMockOpenai } from "../tests/util/mockOpenai.ts";

const ROOT = resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    users: { type: "string", default: "1000" },
    rpm: { type: "string", default: "600" },
    "peer-users": { type: "string", default: "300" },
  },
});
const RPM = Number(values.rpm);
const LATENCY_MS = 300;
const DAY = "2024-06-10";

interface Measured {
  perMinute: number;
  ok: number;
  limited: number;
  seconds: number;
  rerunRequests: number;
  embeddingRequests: number;
}

async function measure(users: number, paced: boolean): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), "duckform-bench-analyze-"));
  const server = await startMockOpenai({ latencyMs: LATENCY_MS, requestsPerMinute: RPM });
  try {
    const messages: TestMessage[] = [];
    const events: TestEvent[] = [];
    for (let i = 1; i <= users; i++) {
      const user = `bench_${String(i).padStart(4, "0")}`;
      for (let k = 0; k < 3; k++)
        messages.push({
          message_key: `telegram:1:${i}-${k}`,
          user_key: user,
          sent_at: `${DAY}T${String(8 + k).padStart(2, "0")}:00:00Z`,
          text: ["The app crashes on resume", "Would love a sleep timer", "Hit my credit limit again"][k]! + ` (#${i})`,
        });
      events.push({ user_key: user, event_type: "play", activity_date: DAY, episode_id: "ep_001" });
    }
    const file = await writeAnalysisDatabase(join(dir, "duckform.duckdb"), messages, events, { syntheticUsers: users });
    const run = () =>
      analyzeUsers({
        projectDir: ROOT,
        database: file,
        provider: { name: "openai", model: "bench-model", baseURL: server.url, apiKey: "bench", timeoutMs: 10_000 },
        date: DAY,
        concurrency: 8,
        rateLimits: paced ? { requestsPerMinute: RPM } : {},
        retry: { retries: 20, minDelayMs: 100, maxDelayMs: 2000 },
      });
    const first = await run();
    if (first.days[0]!.analysed !== users) throw new Error(`only ${first.days[0]!.analysed} of ${users} people analysed`);
    if (first.segments?.embedded !== users || first.segments.labelledBy !== "provider")
      throw new Error(`segments: ${JSON.stringify(first.segments)}`);
    const ok = server.requests.filter((r) => r.status === 200);
    const start = Math.min(...server.requests.map((r) => r.receivedAt));
    const last = Math.max(...ok.map((r) => r.receivedAt)) + LATENCY_MS;
    const seconds = (last - start) / 1000;
    const before = server.requests.length;
    await run();
    return {
      perMinute: (ok.length * 60) / seconds,
      ok: ok.length,
      limited: before - ok.length,
      seconds,
      rerunRequests: server.requests.length - before,
      embeddingRequests: ok.filter((r) => r.path.endsWith("/embeddings")).length,
    };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const users = Number(values.users);
const paced = await measure(users, true);
const unpaced = await measure(Number(values["peer-users"]), false);
const line = (name: string, m: Measured) =>
  `${name} ${m.perMinute.toFixed(1)} requests/min over ${m.seconds.toFixed(1)} s (${m.ok} ok, of which ${m.embeddingRequests} embeddings; ${m.limited} refused with 429; rerun: ${m.rerunRequests} requests)  ratio ${(m.perMinute / RPM).toFixed(3)}x`;
console.log(
  `mock server: ${LATENCY_MS} ms latency, limit ${RPM} requests/min; one request per person-day, then the segments' embeddings and labels`,
);
console.log(line(`analyze users, ${users} people, paced by its limiter: `, paced), "(target >= 0.90x, rerun 0)");
console.log(line(`analyze users, ${values["peer-users"]} people, no client pacing (peer):`, unpaced));
console.log(`paced / unpaced: ${(paced.perMinute / unpaced.perMinute).toFixed(2)}x`);
