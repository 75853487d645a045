import { readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import type { ReportData } from "./data.ts";

const APP = join(import.meta.dirname, "app");

/**
 * One self-contained HTML file: the page script (report/app, with Chart.js and dagre) bundled
 * inline by esbuild, the styles, and the report's data as JSON. No CDN, no fonts, no fetch: it
 * opens from disk offline.
 */
export async function renderReport(data: ReportData): Promise<string> {
  const bundle = await build({
    entryPoints: [join(APP, "main.ts")],
    bundle: true,
    minify: true,
    format: "iife",
    platform: "browser",
    target: "es2020",
    write: false,
    legalComments: "none",
    logLevel: "silent",
  });
  // Inside <script>, "</script" or "<!--" in the data or the bundle would end the element early.
  const safe = (text: string) => text.replace(/</g, "\\u003c");
  const script = bundle.outputFiles[0].text.replace(/<\/script/gi, "<\\/script");
  const title = `duckform report · ${data.database.split(/[\\/]/).pop()}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>${title.replace(/[<>&]/g, "")}</title>
<style>${readFileSync(join(APP, "style.css"), "utf8")}</style>
</head>
<body>
<header></header>
<main></main>
<script type="application/json" id="report-data">${safe(JSON.stringify(data))}</script>
<script>${script}</script>
</body>
</html>
`;
}
