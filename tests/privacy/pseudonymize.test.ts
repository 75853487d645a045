import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { mentionsIn } from "../util/mentions.ts";
import { pipelineProject } from "../util/pipeline.ts";
import { readOnlyRows } from "../util/tmp.ts";

const ROOT = resolve(import.meta.dirname, "..", "..");
const KEY = "test-key-do-not-use";

async function pipeline(
  dir: string,
  config: string,
  env: Record<string, string | undefined>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [resolve(ROOT, "bin/duckform.js"), "pipeline", dir, "--config", config],
      {
        env: { ...process.env, ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

const rows = readOnlyRows;

/** Row counts of every gold table, and the shape of the joins between facts and people. */
async function shape(file: string): Promise<Record<string, unknown>> {
  const tables = await rows(file, "select table_name from duckdb_tables() where schema_name = 'gold' order by 1");
  const out: Record<string, unknown> = {};
  for (const { table_name } of tables) out[String(table_name)] = (await rows(file, `select count(*) as n from gold.${table_name}`))[0].n;
  out.messages_joined = (await rows(file, "select count(*) as n from gold.fct_messages join gold.dim_users using (user_key)"))[0].n;
  out.interactions_joined = (
    await rows(file, "select count(*) as n from gold.fct_user_interactions join gold.dim_users using (user_key)")
  )[0].n;
  out.messages_per_user = (
    await rows(file, "select list(n order by n)::varchar as l from (select count(*) as n from gold.fct_messages group by user_key)")
  )[0].l;
  out.people_per_name = (
    await rows(file, "select list(n order by n)::varchar as l from (select count(*) as n from gold.dim_users group by display_name)")
  )[0].l;
  return out;
}

describe("pseudonymize: true", () => {
  it("replaces names, handles and e-mails in silver and gold with stable keyed hashes, and leaves every count and join as it was", async () => {
    const plain = await pipelineProject();
    const hashed = await pipelineProject("pseudonymize: true\n");
    expect((await pipeline(plain.dir, plain.config, {})).code).toBe(0);
    const result = await pipeline(hashed.dir, hashed.config, { DUCKFORM_PSEUDONYM_KEY: KEY });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);

    const a = await shape(plain.database);
    const b = await shape(hashed.database);
    // Entities are the exception: the local provider finds known people in text by their names, which pseudonymized silver no longer holds.
    for (const t of ["dim_entities", "bdg_message_entities"]) {
      delete a[t];
      delete b[t];
    }
    expect(b).toEqual(a);

    const viktor = `p_${createHash("sha256").update(`${KEY}:viktor khan`).digest("hex").slice(0, 16)}`;
    expect(
      await rows(hashed.database, "select display_name, email like 'p_%' as hashed_email from gold.dim_users where user_key = 'user_0002'"),
    ).toEqual([{ display_name: viktor, hashed_email: true }]);
    expect(await rows(hashed.database, "select count(*) as n from gold.dim_users where email like '%@%'")).toEqual([{ n: 0 }]);
    const names = ["Viktor Khan", "viktor.khan@earshot.example", "U01CFD8048"];
    const found = Object.keys(await mentionsIn(hashed.database, names)).filter((t) => /^(silver|gold)\./.test(t));
    // Only message text, which pseudonymize does not rewrite ("@Viktor Khan has joined the channel").
    expect(found).toEqual(["silver.int_messages"]);
    const [outsideText] = await rows(
      hashed.database,
      `select count(*) as n from (select * exclude (text) from silver.int_messages) as m
       where regexp_matches(lower(m::varchar), 'viktor khan|viktor\\.khan@earshot\\.example|u01cfd8048')`,
    );
    expect(outsideText).toEqual({ n: 0 });
    expect(Object.keys(await mentionsIn(plain.database, names)).filter((t) => /^(silver|gold)\./.test(t)).length).toBeGreaterThan(3);
  }, 300_000);

  it("refuses to run without the key, naming the variable (exit 2)", async () => {
    const { dir, config } = await pipelineProject("pseudonymize: true\n");
    const result = await pipeline(dir, config, { DUCKFORM_PSEUDONYM_KEY: undefined });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/duckform\.yaml: pseudonymize is true but \$DUCKFORM_PSEUDONYM_KEY is not set/);
  });
});
