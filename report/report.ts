import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { basename, dirname, join, resolve } from "node:path";
import { assertCompiled, compileProject } from "../runner/compile.ts";
import { openProjectDatabase } from "../runner/project.ts";
import { gatherReport } from "./data.ts";
import { renderReport } from "./page.ts";

export interface ReportOptions {
  database?: string;
  /** The HTML file (default: report.html beside the database). */
  out?: string;
}

/**
 * `duckform report`: reads the last runs, the quality tables and the compiled graph, and writes
 * one self-contained HTML file. The database is opened read-only; the file appears whole or not
 * at all (written beside, then renamed).
 */
export async function writeReport(projectDir: string, options: ReportOptions = {}): Promise<{ file: string; bytes: number }> {
  const graph = compileProject(resolve(projectDir));
  assertCompiled(graph);
  const db = await openProjectDatabase({ project: projectDir, database: options.database, readOnly: true });
  let html: string;
  try {
    html = await renderReport(await gatherReport(db, graph));
  } finally {
    db.close();
  }
  const file = options.out ? resolve(options.out) : join(dirname(db.file), "report.html");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.next`, html);
  renameSync(`${file}.next`, file);
  return { file, bytes: Buffer.byteLength(html) };
}

/** `--open`: serves the one file on 127.0.0.1 (an ephemeral port unless given) until stopped. */
export async function serveReport(file: string, port = 0): Promise<{ url: string; server: Server }> {
  const { readFile } = await import("node:fs/promises");
  const name = `/${encodeURIComponent(basename(file))}`;
  const server = createServer(async (request, response) => {
    if (request.url !== "/" && request.url !== name) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    response.end(await readFile(file));
  });
  await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  return { url: `http://127.0.0.1:${actual}${name}`, server };
}
