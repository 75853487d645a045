import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createPrng } from "../../loaders/sample/prng.ts";

/** Probabilities (0..1) of each fault, per request. */
export interface Faults {
  /** 429 with Retry-After (and retry-after-ms). */
  rateLimit: number;
  /** 500. */
  serverError: number;
  /** No answer until the client gives up. */
  timeout: number;
  /** 200 whose message content is cut-off JSON. */
  malformed: number;
  /** 200 whose annotations leave one id out. */
  missingIds: number;
  /** 400 with an OpenAI error body: never worth retrying. */
  badRequest: number;
  /** 502 with a proxy's HTML page. */
  badGateway: number;
  /** 200 with an HTML page (a web UI at the base URL). */
  html: number;
  /** 200 that says application/json and sends HTML. */
  notJson: number;
  /** 200 headers at once, then part of the body, then nothing until the client gives up. */
  stall: number;
  /** 200 whose user-day analysis cites a message id the context did not hold. */
  foreignEvidence: number;
  /** 200 whose segment labels name a segment the request did not send. */
  unknownSegment: number;
}

export interface MockOpenAIOptions {
  /** Delay before every answer. */
  latencyMs?: number;
  /** The server's own limit: above it, 429 with the time to wait. */
  requestsPerMinute?: number;
  /** Requests the limit lets through at once (default: one second's worth, at least 2). */
  burst?: number;
  faults?: Partial<Faults>;
  /** What an injected 429 asks the client to wait. */
  retryAfterMs?: number;
  seed?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The bytes the server received, for checking what left the client. */
  body: Buffer;
  status: number;
  /** "ok", "rate_limited" (the server's limit), or the injected fault. */
  outcome: string;
  receivedAt: number;
}

export interface MockOpenAI {
  url: string;
  requests: RecordedRequest[];
  setFaults(faults: Partial<Faults>): void;
  close(): Promise<void>;
}

// New faults go last: a draw picks a fault by walking these in order.
const NO_FAULTS: Faults = {
  rateLimit: 0,
  serverError: 0,
  timeout: 0,
  malformed: 0,
  missingIds: 0,
  badRequest: 0,
  badGateway: 0,
  html: 0,
  notJson: 0,
  stall: 0,
  foreignEvidence: 0,
  unknownSegment: 0,
};
const HTML_PAGE = '<!doctype html>\n<html><head><title>Chat UI</title></head><body><div id="app"></div></body></html>';

/**
 * An OpenAI-compatible server on 127.0.0.1 for tests and benchmarks: `POST /v1/chat/completions`
 * answers the annotation requests enrichment sends (one annotation per id in the user message,
 * categories from the request's JSON schema), `POST /v1/embeddings` returns small deterministic
 * vectors. Latency, a request rate limit and faults are configurable; every request is recorded.
 */
export async function startMockOpenai(options: MockOpenAIOptions = {}): Promise<MockOpenAI> {
  let faults: Faults = { ...NO_FAULTS, ...options.faults };
  const seed = options.seed ?? 1;
  const requests: RecordedRequest[] = [];
  // Faults are drawn from the request's content and how often that content was sent before, not
  // from arrival order, so a run with the same batches meets the same faults however it interleaves.
  const sent = new Map<string, number>();
  const rpm = options.requestsPerMinute;
  const capacity = rpm ? (options.burst ?? Math.max(2, rpm / 60)) : Infinity;
  let bucket = capacity;
  let bucketAt = performance.now();
  const pending = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const record: RecordedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
        status: 0,
        outcome: "ok",
        receivedAt: Date.now(),
      };
      requests.push(record);
      handle(req, res, record);
    });
  });

  function takeToken(): number {
    if (!rpm) return 0;
    const now = performance.now();
    bucket = Math.min(capacity, bucket + ((now - bucketAt) * rpm) / 60_000);
    bucketAt = now;
    if (bucket >= 1) {
      bucket -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket) * 60_000) / rpm);
  }

  function send(res: ServerResponse, record: RecordedRequest, status: number, body: unknown, headers: Record<string, string> = {}): void {
    record.status = status;
    const delay = options.latencyMs ?? 0;
    const write = () => {
      pending.delete(res);
      if (res.destroyed) return;
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    pending.add(res);
    if (delay > 0) setTimeout(write, delay);
    else write();
  }

  function handle(req: IncomingMessage, res: ServerResponse, record: RecordedRequest): void {
    const wait = takeToken();
    if (wait > 0) {
      record.outcome = "rate_limited";
      send(res, record, 429, { error: { message: "Rate limit reached", type: "requests" } }, rateLimitHeaders(wait));
      return;
    }
    const digest = createHash("sha256").update(record.body).digest("hex");
    const attempt = sent.get(digest) ?? 0;
    sent.set(digest, attempt + 1);
    const random = unitSequence(`${seed}:${digest}:${attempt}`);
    const draw = random();
    let edge = 0;
    const fault = (Object.keys(faults) as (keyof Faults)[]).find((k) => draw < (edge += faults[k]));
    if (fault) record.outcome = fault;
    if (fault === "rateLimit") {
      send(res, record, 429, { error: { message: "Rate limit reached (injected)" } }, rateLimitHeaders(options.retryAfterMs ?? 1000));
      return;
    }
    if (fault === "serverError") {
      send(res, record, 500, { error: { message: "The server had an error (injected)" } });
      return;
    }
    if (fault === "timeout") {
      // Never answered: the client's timeout ends it, or close() does.
      pending.add(res);
      res.on("close", () => pending.delete(res));
      return;
    }
    if (fault === "stall") {
      record.status = 200;
      pending.add(res);
      res.on("close", () => pending.delete(res));
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"id": "chatcmpl-stalled", "choices": [');
      return;
    }
    if (fault === "badRequest") {
      send(res, record, 400, {
        error: { message: "response_format json_schema is not supported by this model (injected)", type: "invalid_request_error" },
      });
      return;
    }
    if (fault === "badGateway") {
      send(
        res,
        record,
        502,
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
        { "content-type": "text/html" },
      );
      return;
    }
    if (fault === "html" || fault === "notJson") {
      send(res, record, 200, HTML_PAGE, { "content-type": fault === "html" ? "text/html; charset=utf-8" : "application/json" });
      return;
    }
    let body: {
      model?: string;
      messages?: { role: string; content: string }[];
      input?: string | string[];
      encoding_format?: string;
      response_format?: unknown;
    };
    try {
      body = JSON.parse(record.body.toString("utf8"));
    } catch {
      send(res, record, 400, { error: { message: "request body is not JSON" } });
      return;
    }
    if (req.url?.endsWith("/embeddings")) {
      const inputs = Array.isArray(body.input) ? body.input : [body.input ?? ""];
      send(res, record, 200, {
        object: "list",
        model: body.model,
        data: inputs.map((text, index) => {
          const vector = vectorOf(String(text));
          const embedding = body.encoding_format === "base64" ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector;
          return { object: "embedding", index, embedding };
        }),
        usage: { prompt_tokens: tokens(inputs.join(" ")), total_tokens: tokens(inputs.join(" ")) },
      });
      return;
    }
    if (!req.url?.endsWith("/chat/completions")) {
      send(res, record, 404, { error: { message: `no route ${req.url}` } });
      return;
    }
    const user = [...(body.messages ?? [])].reverse().find((m) => m.role === "user")?.content ?? "{}";
    const name = schemaName(body.response_format);
    if (name === "user_day_analysis" || name === "segment_labels") {
      const content = JSON.stringify(
        name === "segment_labels" ? labelSegments(user, fault === "unknownSegment") : analyse(user, fault === "foreignEvidence"),
      );
      send(res, record, 200, {
        id: `chatcmpl-${requests.length}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: fault === "malformed" ? content.slice(0, 20) : content },
            finish_reason: "stop",
          },
        ],
        usage: { prompt_tokens: tokens(user), completion_tokens: tokens(content), total_tokens: tokens(user) + tokens(content) },
      });
      return;
    }
    let items: { id: string; text: string }[] = [];
    try {
      items = (JSON.parse(user) as { messages?: { id: string; text: string }[] }).messages ?? [];
    } catch {
      items = [];
    }
    const categories = categoriesOf(body.response_format);
    let annotations = items.map((item) => annotate(item, categories));
    if (fault === "missingIds" && annotations.length > 0)
      annotations = annotations.filter((_, i) => i !== Math.floor(random() * annotations.length));
    let content = JSON.stringify({ annotations });
    if (fault === "malformed") content = content.slice(0, Math.max(1, Math.floor(content.length / 2)));
    send(res, record, 200, {
      id: `chatcmpl-${requests.length}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      usage: {
        prompt_tokens: tokens(record.body.toString("utf8")),
        completion_tokens: tokens(content),
        total_tokens: tokens(record.body.toString("utf8")) + tokens(content),
      },
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    setFaults(next) {
      faults = { ...NO_FAULTS, ...next };
    },
    async close() {
      for (const res of pending) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function rateLimitHeaders(waitMs: number): Record<string, string> {
  return { "retry-after": String(Math.ceil(waitMs / 1000)), "retry-after-ms": String(waitMs) };
}

function schemaName(responseFormat: unknown): string | undefined {
  return (responseFormat as { json_schema?: { name?: string } } | undefined)?.json_schema?.name;
}

/**
 * A user-day analysis as a model might give it: a friction point per message that reads like
 * one (citing it), a use case per listened topic (citing the plays), churn risk from a message
 * about leaving. `foreign` cites an id the context did not send.
 */
function analyse(user: string, foreign: boolean) {
  let context: { messages?: { id: string; text: string }[]; listened_topics?: string[]; metrics?: Record<string, number> } = {};
  try {
    context = JSON.parse(user);
  } catch {
    context = {};
  }
  const messages = context.messages ?? [];
  const item = (label: string, evidence: string[], metrics: string[] = []) => ({ label, evidence, metrics });
  const friction = messages
    .filter((m) => /crash|broken|fail|stuck|freez|would love|add|limit/i.test(m.text))
    .slice(0, 3)
    .map((m) => item((m.text.toLowerCase().match(/[a-z]{4,}/g) ?? ["issue"]).slice(0, 2).join(" "), [m.id]));
  if ((context.metrics?.credit_limit_hits ?? 0) > 0) friction.push(item("credit limit", [], ["credit_limit_hits"]));
  const leaving = messages.filter((m) => /cancel|uninstall|switching|leaving/i.test(m.text)).map((m) => m.id);
  const analysis = {
    use_cases: (context.listened_topics ?? []).slice(0, 3).map((t) => item(`listening: ${t}`, [], ["plays"])),
    friction_points: friction,
    value_signals: (context.metrics?.completes ?? 0) > 0 ? [item("completes episodes", [], ["completes"])] : [],
    pay_signals: messages
      .filter((m) => /credit|price|pay|upgrad/i.test(m.text))
      .slice(0, 2)
      .map((m) => item("asks about credits", [m.id])),
    sentiment: { label: "neutral", score: 0, evidence: [] as string[] },
    churn_risk: { level: leaving.length > 0 ? "high" : "low", evidence: leaving.slice(0, 3), metrics: [] as string[] },
  };
  if (foreign) analysis.sentiment.evidence = ["m999"];
  return analysis;
}

/** Segment labels as a model might give them from the aggregates: the rule's label reworded. `unknown` names a segment that was not sent. */
function labelSegments(user: string, unknown: boolean) {
  let request: { segments?: { id: number; people: number; rule_label: string; above_average: string[] }[] } = {};
  try {
    request = JSON.parse(user);
  } catch {
    request = {};
  }
  const segments = (request.segments ?? []).map((s) => ({
    id: s.id,
    label: `mock ${s.rule_label}`,
    description: `${s.people} people, above average in ${s.above_average.join(", ") || "nothing"}.`,
  }));
  if (unknown && segments.length > 0) segments[0]!.id = 999;
  return { segments };
}

/** The category enum of the request's JSON schema, wherever the schema puts it. */
function categoriesOf(responseFormat: unknown): string[] {
  const found: string[] = [];
  const visit = (node: unknown, key?: string) => {
    if (!node || typeof node !== "object") return;
    if (key === "category" && Array.isArray((node as { enum?: unknown }).enum)) found.push(...(node as { enum: string[] }).enum);
    for (const [k, v] of Object.entries(node)) visit(v, k);
  };
  visit(responseFormat);
  return found.length > 0 ? found : ["other"];
}

function annotate(item: { id: string; text: string }, categories: string[]) {
  const words = (item.text.toLowerCase().match(/[a-z]{4,}/g) ?? []).slice(0, 2);
  const placeholders = item.text.match(/\[[A-Z_]+_\d+\]/g) ?? [];
  return {
    id: item.id,
    category: categories[hash(item.text) % categories.length]!,
    topics: words,
    entities: placeholders.filter((p) => p.startsWith("[PERSON")).map((name) => ({ name, type: "person" })),
  };
}

function vectorOf(text: string): number[] {
  const v = Array.from({ length: 8 }, (_, i) => ((hash(`${i}:${text}`) % 2000) - 1000) / 1000);
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

function tokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Deterministic numbers in [0, 1) from a string. */
function unitSequence(key: string): () => number {
  return createPrng(hash(key)).next;
}

/** The address of a mock server that has stopped: a provider that is down (connection refused). */
export async function stoppedMockOpenaiUrl(): Promise<string> {
  const gone = await startMockOpenai();
  await gone.close();
  return gone.url;
}
