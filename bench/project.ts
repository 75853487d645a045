import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * Writes a generated Dataform project for benchmarks: one source table of `rows` rows, then
 * `layers` layers of `width` tables, each reading two tables of the layer before, with
 * inline assertions and an incremental table per layer. The project has its own package.json
 * and node_modules/@dataform/core (a copy of ours: vm2 refuses modules that resolve outside the project), as `dataform compile` requires.
 */
export function generateProject(dir: string, options: { rows: number; layers: number; width: number }): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "definitions"), { recursive: true });
  mkdirSync(join(dir, "includes"), { recursive: true });
  writeFileSync(
    join(dir, "dataform.json"),
    JSON.stringify({ warehouse: "bigquery", defaultDatabase: "bench-db", defaultSchema: "bench", assertionSchema: "bench_assertions" }),
  );
  writeFileSync(join(dir, "package.json"), JSON.stringify({ dependencies: { "@dataform/core": "3.0.62" } }));
  const core = dirname(createRequire(import.meta.url).resolve("@dataform/core/package.json"));
  mkdirSync(join(dir, "node_modules", "@dataform"), { recursive: true });
  cpSync(core, join(dir, "node_modules", "@dataform", "core"), { recursive: true });
  writeFileSync(
    join(dir, "includes", "metrics.js"),
    "// Sum of a column over a group; NULLs are ignored, as sum() does.\nfunction total(column) { return `sum(${column})`; }\nmodule.exports = { total };\n",
  );
  writeFileSync(
    join(dir, "definitions", "layer0_0.sqlx"),
    `config { type: "table", assertions: { nonNull: ["id"] } }\n` +
      `select range as id, range % 1000 as user_id, (range * 7919) % 100000 as amount, range % 97 as bucket\nfrom range(${options.rows})\n`,
  );
  for (let layer = 1; layer <= options.layers; layer++) {
    for (let i = 0; i < options.width; i++) {
      const previousWidth = layer === 1 ? 1 : options.width;
      const a = `layer${layer - 1}_${i % previousWidth}`;
      const b = `layer${layer - 1}_${(i + 1) % previousWidth}`;
      const incremental = i === 0;
      writeFileSync(
        join(dir, "definitions", `layer${layer}_${i}.sqlx`),
        `config { type: "${incremental ? "incremental" : "table"}", ${incremental ? 'uniqueKey: ["id"], ' : ""}assertions: { uniqueKey: ["id"], rowConditions: ["amount >= 0"] } }\n\n` +
          `select x.id, x.user_id, x.amount + coalesce(y.amount, 0) % ${layer + i + 2} as amount, x.bucket\n` +
          `from \${ref("${a}")} as x\nleft join \${ref("${b}")} as y on y.id = x.id\n` +
          `${incremental ? "${when(incremental(), `where x.id > (select max(id) from ${self()})`)}" : ""}\n`,
      );
    }
  }
  writeFileSync(
    join(dir, "definitions", "report.js"),
    `publish("report", { type: "table" }).query(ctx => \`select bucket, \${metrics.total("amount")} as amount from \${ctx.ref("layer${options.layers}_0")} group by bucket\`);\n`,
  );
}
