import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPrng, type Prng } from "./prng.ts";
import { people } from "./world.ts";

/** Seed 002's tables as the product creates them: conversations, messages, service_jobs and user_actions. */
export const PRODUCT_SCHEMA = `
  create table conversations (
    id uuid primary key,
    user_id varchar(255) not null,
    title text,
    created_at timestamptz not null,
    updated_at timestamptz not null
  );
  create table messages (
    id uuid primary key,
    conversation_id uuid not null,
    role varchar(20) not null,
    content text,
    tokens integer,
    created_at timestamptz not null,
    updated_at timestamptz not null
  );
  create table service_jobs (
    id uuid primary key,
    conversation_id uuid,
    user_id varchar(255) not null,
    service varchar(50) not null,
    status varchar(20) not null,
    credits numeric(10, 2),
    created_at timestamptz not null,
    updated_at timestamptz not null
  );
  create table user_actions (
    id uuid primary key,
    user_id varchar(255),
    action varchar(50),
    metadata jsonb,
    created_at timestamp
  );
`;

export interface ProductSampleManifest {
  /** A SQL dump (schema and rows) that the pipeline serves from an embedded PGlite for the sample. */
  file: string;
  conversations: number;
  messages: number;
  serviceJobs: number;
  userActions: number;
  planted: {
    /** A conversation of a user id the seeds do not know: it lands, linked to nobody. */
    unknownUser: { conversationId: string; userId: string };
    /** Invalid in bronze, with the reason it gives. */
    invalid: { table: "service_jobs" | "user_actions"; id: string; error: string }[];
  };
}

/** What people ask the product's assistant to do with their episodes, and the service that does it. */
const REQUESTS = [
  { service: "summarize", title: "Show notes", ask: (n: number) => `Summarise episode ${n} in five bullet points for the show notes` },
  { service: "clip", title: "Clip for social", ask: (n: number) => `Make a 30-second clip of episode ${n} for social` },
  { service: "translate", title: "Translated notes", ask: (n: number) => `Translate the show notes of episode ${n} into German` },
  { service: "chapters", title: "Chapters", ask: (n: number) => `Add chapter markers to episode ${n}` },
] as const;

/**
 * Writes `product/product.sql`: the product's own PostgreSQL database as seed 002 describes it
 * (conversations with the assistant, their messages, the service jobs they ran and the users'
 * high-signal actions) for the world's customers in 2024, as a dump the pipeline loads into an
 * embedded PGlite. The planted defects are in the manifest.
 */
export function writeSampleProduct(dir: string, options: { seed: number }): ProductSampleManifest {
  const prng = createPrng(`product:${options.seed}`);
  const uuid = () => uuidOf(prng);
  const rows = { conversations: [] as string[], messages: [] as string[], service_jobs: [] as string[], user_actions: [] as string[] };
  const customers = people().filter((p) => !p.isInternal && p.activity > 0.6);
  for (const person of customers) {
    const conversations = Math.min(6, Math.round(person.activity * 1.5));
    for (let c = 0; c < conversations; c++) {
      const request = prng.pick(REQUESTS);
      const episode = prng.int(1, 40);
      const started = Date.UTC(2024, 0, 1) + prng.int(0, 364) * 86_400_000 + prng.int(7, 22) * 3_600_000 + prng.int(0, 59) * 60_000;
      const turns = prng.int(1, 3);
      const ended = started + (turns * 2 - 1) * 60_000;
      const conversation = uuid();
      rows.conversations.push(values([conversation, person.userId, request.title, ts(started), ts(ended)]));
      for (let t = 0; t < turns * 2; t++) {
        const user = t % 2 === 0;
        const text = user
          ? t === 0
            ? request.ask(episode)
            : "Shorter, please"
          : t === turns * 2 - 1
            ? "Done: it is in your library."
            : "Here is a draft.";
        const at = ts(started + t * 60_000);
        rows.messages.push(values([uuid(), conversation, user ? "user" : "assistant", text, 4 + text.split(" ").length, at, at]));
      }
      const failed = prng.chance(0.08);
      rows.service_jobs.push(
        values([
          uuid(),
          conversation,
          person.userId,
          request.service,
          failed ? "failed" : "done",
          failed ? "0.00" : (prng.int(5, 80) / 4).toFixed(2),
          ts(started + 30_000),
          ts(ended),
        ]),
      );
      if (!failed && prng.chance(0.5))
        rows.user_actions.push(
          values([
            uuid(),
            person.userId,
            prng.chance(0.7) ? "download" : "share",
            JSON.stringify({ media_id: `ep_${String(episode).padStart(4, "0")}` }),
            naive(ended + 60_000),
          ]),
        );
    }
  }

  // Planted defects.
  const unknownUser = { conversationId: uuid(), userId: "user_9001" };
  const at = ts(Date.UTC(2024, 4, 2, 9, 0));
  rows.conversations.push(values([unknownUser.conversationId, unknownUser.userId, "Show notes", at, at]));
  rows.messages.push(values([uuid(), unknownUser.conversationId, "user", REQUESTS[0].ask(3), 12, at, at]));
  const negative = uuid();
  rows.service_jobs.push(values([negative, unknownUser.conversationId, unknownUser.userId, "summarize", "refunded", "-2.50", at, at]));
  const anonymous = uuid();
  rows.user_actions.push(values([anonymous, null, "share", "{}", naive(Date.UTC(2024, 4, 2, 9, 5))]));

  const sql = [
    "-- The sample product database (seed 002), served by an embedded PGlite for `duckform pipeline` on the sample.",
    PRODUCT_SCHEMA.trim(),
    ...Object.entries(rows).map(([table, list]) => `insert into ${table} values\n  ${list.join(",\n  ")};`),
    "",
  ].join("\n");
  mkdirSync(dir, { recursive: true });
  const file = "product.sql";
  writeFileSync(join(dir, file), sql);
  return {
    file,
    conversations: rows.conversations.length,
    messages: rows.messages.length,
    serviceJobs: rows.service_jobs.length,
    userActions: rows.user_actions.length,
    planted: {
      unknownUser,
      invalid: [
        { table: "service_jobs", id: negative, error: "negative_credits" },
        { table: "user_actions", id: anonymous, error: "missing_user_id" },
      ],
    },
  };
}

function uuidOf(prng: Prng): string {
  const h = prng.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function ts(ms: number): string {
  return `${naive(ms)}+00`;
}

function naive(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

function values(fields: (string | number | null)[]): string {
  return `(${fields.map((f) => (f === null ? "null" : typeof f === "number" ? String(f) : `'${f.replace(/'/g, "''")}'`)).join(", ")})`;
}
