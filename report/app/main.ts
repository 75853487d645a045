/**
 * The report page: reads the data embedded in the file and builds every section. Runs offline
 * from disk; nothing here fetches anything.
 */
import type { ActionNode, AssertionReport, ReportData } from "../data.ts";
import { durationPerRun, rowsPerLayer, statusOverRuns, timeline, STATUS_COLORS } from "./charts.ts";
import { badge, cell, formatNumber, h, short, table } from "./dom.ts";
import { lineage } from "./lineage.ts";

const data = JSON.parse(document.getElementById("report-data")!.textContent!) as ReportData;
const byName = new Map(data.actions.map((a) => [a.name, a]));
const assertionByName = new Map(data.assertions.map((a) => [a.name, a]));
const main = document.querySelector("main")!;

const tabs: { id: string; title: string; build: () => HTMLElement }[] = [
  { id: "summary", title: "Run summary", build: summary },
  { id: "assertions", title: "Assertions", build: assertions },
  { id: "reconciliation", title: "Reconciliation", build: reconciliation },
  { id: "enrichment", title: "Enrichment", build: enrichment },
  { id: "lineage", title: "Lineage", build: lineageSection },
  { id: "catalog", title: "Catalog", build: catalog },
];
const built = new Map<string, HTMLElement>();

function show(id: string): void {
  const tab = tabs.find((t) => t.id === id) ?? tabs[0];
  for (const [key, section] of built) section.hidden = key !== tab.id;
  if (!built.has(tab.id)) {
    // Charts and the graph measure their box, so a section is built when it is first shown.
    const section = h("section", { id: tab.id }, h("h2", {}, tab.title));
    main.append(section);
    section.append(tab.build());
    built.set(tab.id, section);
  }
  for (const link of document.querySelectorAll<HTMLAnchorElement>("nav a")) link.classList.toggle("active", link.hash === `#${tab.id}`);
}

function header(): void {
  const failed = data.assertions.filter((a) => a.status === "failed").length;
  const last = data.runs.at(-1);
  document
    .querySelector("header")!
    .append(
      h("h1", {}, "duckform data-quality report"),
      h(
        "p",
        { class: "meta" },
        `${data.database} · generated ${data.generatedAt}`,
        last ? ` · last run ${String(last.run_id).slice(0, 8)} at ${last.started_at}` : " · no runs yet",
        " · ",
        failed
          ? h("strong", { class: "bad" }, `${failed} assertion${failed === 1 ? "" : "s"} failing`)
          : h("strong", { class: "good" }, "all assertions passing"),
      ),
      h("nav", {}, ...tabs.map((t) => h("a", { href: `#${t.id}` }, t.title))),
    );
}

/** Links to an action: to its node in the lineage graph. */
function actionLink(name: string): HTMLElement {
  return h("a", { href: `#lineage/${encodeURIComponent(name)}`, class: "action-link" }, short(name));
}

function summary(): HTMLElement {
  const run = data.lastRun;
  if (!run) return h("p", {}, "No run recorded yet: run duckform run.");
  const count = (s: string) => run.actions.filter((a) => a.status === s).length;
  const seconds = data.runs.at(-1)?.seconds;
  const rows = run.actions.reduce((sum, a) => sum + (a.type !== "assertion" ? Number(a.rows ?? 0) : 0), 0);
  return h(
    "div",
    {},
    h(
      "div",
      { class: "cards" },
      ...["success", "failed", "skipped", "disabled"].map((s) =>
        h("div", { class: "card", style: `border-color:${STATUS_COLORS[s]}` }, h("b", {}, count(s)), ` ${s}`),
      ),
      h("div", { class: "card" }, h("b", {}, `${Number(seconds ?? 0).toFixed(2)} s`), " wall"),
      h("div", { class: "card" }, h("b", {}, formatNumber(rows)), " rows written"),
    ),
    h(
      "div",
      { class: "grid" },
      h("figure", {}, h("figcaption", {}, "Status over runs"), statusOverRuns(data.runs)),
      h("figure", {}, h("figcaption", {}, "Duration per run"), durationPerRun(data.runs)),
    ),
    h("figure", {}, h("figcaption", {}, "Timeline of the last run"), timeline(run.actions)),
    h("h3", {}, "Actions of the last run"),
    table(
      run.actions.map((a) => ({ ...a, name: a.name, error: a.error ?? "" })),
      ["name", "type", "status", "mode", "seconds", "rows", "error"],
      { class: "actions" },
    ),
  );
}

function history(a: AssertionReport): HTMLElement {
  return h(
    "span",
    { class: "history", title: "status over the last runs, oldest first" },
    ...a.history.map((r) =>
      h("i", {
        style: `background:${STATUS_COLORS[r.status] ?? "#ccc"}`,
        title: `${r.runId.slice(0, 8)}: ${r.status}, ${r.rows ?? 0} rows, ${r.seconds}s`,
      }),
    ),
  );
}

function assertionCard(a: AssertionReport): HTMLElement {
  const failing = a.history.at(-1)?.rows ?? 0;
  const details = h(
    "details",
    { class: `assertion ${a.status}`, "data-assertion": a.name },
    h(
      "summary",
      {},
      badge(a.status),
      h("span", { class: "name" }, short(a.name)),
      a.status === "failed" ? h("span", { class: "bad" }, `${failing} failing row${failing === 1 ? "" : "s"}`) : null,
      history(a),
      a.failedInARow > 0 ? h("span", { class: "streak" }, `failed ${a.failedInARow} run${a.failedInARow === 1 ? "" : "s"} in a row`) : null,
      a.firstFailedAt ? h("span", { class: "muted" }, `first failed ${a.firstFailedAt}`) : null,
    ),
    a.description ? h("p", {}, a.description) : null,
    h("p", {}, "Checks ", ...a.checks.flatMap((c, i) => [i ? ", " : "", actionLink(c)]), ` · ${a.fileName}`),
    h("pre", { class: "sql" }, a.sql),
  );
  for (const f of a.failingRows) {
    const rows = f.rows as Record<string, unknown>[];
    details.append(
      h("h4", {}, `Failing rows of run ${f.runId.slice(0, 8)} (${f.recordedAt}), first ${rows.length}`),
      table(rows, undefined, { class: "failing-rows" }),
    );
  }
  if (a.history.length) details.append(h("h4", {}, "History"), table([...a.history].reverse(), ["runId", "status", "rows", "seconds"]));
  if (a.status === "failed") details.open = true;
  return details;
}

function assertions(): HTMLElement {
  const failed = data.assertions.filter((a) => a.status === "failed");
  return h(
    "div",
    {},
    h("p", {}, `${data.assertions.length} assertions, ${failed.length} failing. Failing rows are kept for every run, never overwritten.`),
    ...data.assertions.map(assertionCard),
  );
}

function reconciliation(): HTMLElement {
  const chain = (r: ReportData["reconciliation"][number]) =>
    h(
      "div",
      { class: "chain" },
      ...r.layers.map((l) =>
        h(
          "div",
          { class: "layer" },
          h("h4", {}, l.layer),
          ...l.tables.map((t) =>
            h(
              "div",
              {},
              `${t.name}: ${t.rows === null ? "view, not counted" : formatNumber(t.rows)}`,
              t.valid !== undefined
                ? h("span", { class: "muted" }, ` (${formatNumber(t.valid)} valid, ${formatNumber(t.invalid)} invalid)`)
                : null,
            ),
          ),
          l.tables.length ? null : h("div", { class: "muted" }, "—"),
        ),
      ),
    );
  return h(
    "div",
    {},
    h("figure", {}, h("figcaption", {}, "Rows per layer"), rowsPerLayer(data.layerRows)),
    ...data.reconciliation.map((r) => h("div", { class: "source" }, h("h3", {}, `raw.${r.source}`), chain(r))),
    h("h3", {}, `Quarantine: ${formatNumber(data.quarantine.total)} lines`),
    h(
      "div",
      { class: "grid" },
      h("div", {}, h("h4", {}, "By reason"), table(data.quarantine.byReason)),
      h("div", {}, h("h4", {}, "By file"), table(data.quarantine.byFile)),
    ),
    h("h3", {}, "Load ledger"),
    table(data.ledger.byStatus),
    h("details", {}, h("summary", {}, `Files (${data.ledger.files.length} most recent)`), table(data.ledger.files)),
  );
}

function enrichment(): HTMLElement {
  const e = data.enrichment;
  if (!e) return h("p", {}, "No enrichment tables in this database.");
  const pct = e.messages ? ((100 * e.annotated) / e.messages).toFixed(1) : "0";
  const tokens = e.runs.reduce((s, r) => s + Number(r.input_tokens ?? 0) + Number(r.output_tokens ?? 0), 0);
  const cost = e.runs.reduce((s, r) => s + Number(r.cost_usd ?? 0), 0);
  return h(
    "div",
    {},
    h(
      "div",
      { class: "cards" },
      h(
        "div",
        { class: "card" },
        h("b", {}, `${pct} %`),
        ` coverage (${formatNumber(e.annotated)} of ${formatNumber(e.messages)} messages)`,
      ),
      h("div", { class: "card" }, h("b", {}, formatNumber(tokens)), " tokens"),
      h("div", { class: "card" }, h("b", {}, `$${cost.toFixed(4)}`), " cost"),
    ),
    h("h3", {}, "Dead letters by reason"),
    e.deadLetters.length ? table(e.deadLetters) : h("p", {}, "None."),
    h("h3", {}, "Runs"),
    table(e.runs),
  );
}

function details(a: ActionNode): HTMLElement {
  return h(
    "div",
    { class: "details", "data-action": a.name },
    h("h3", {}, a.name),
    h("p", { class: "muted" }, `${a.type} · ${a.fileName}${a.rows !== null ? ` · ${formatNumber(a.rows)} rows` : ""}`),
    a.description ? h("p", {}, a.description) : null,
    a.tags.length ? h("p", {}, "Tags: ", ...a.tags.map((t) => h("span", { class: "tag" }, t))) : null,
    h("h4", {}, "Columns"),
    table(a.columns, ["name", "type", "description"], { class: "columns" }),
    h("h4", {}, `Assertions (${a.assertions.length})`),
    h(
      "ul",
      {},
      ...a.assertions.map((n) =>
        h(
          "li",
          {},
          badge(assertionByName.get(n)?.status ?? "not run"),
          " ",
          h("a", { href: `#assertions/${encodeURIComponent(n)}` }, short(n)),
        ),
      ),
    ),
    a.dependencies.length ? h("p", {}, "Reads ", ...a.dependencies.flatMap((d, i) => [i ? ", " : "", actionLink(d)])) : null,
    a.sql ? h("h4", {}, "SQL") : null,
    a.sql ? h("pre", { class: "sql" }, a.sql) : null,
  );
}

let selectInGraph: (name: string) => void = () => undefined;
const panel = h("aside", { class: "panel" }, h("p", { class: "muted" }, "Click an action to see its SQL, columns and assertions."));

function selectAction(name: string): void {
  const a = byName.get(name);
  if (!a) return;
  selectInGraph(name);
  panel.replaceChildren(details(a));
}

function lineageSection(): HTMLElement {
  const graph = lineage(data.actions, (name) => (location.hash = `#lineage/${encodeURIComponent(name)}`));
  selectInGraph = graph.select;
  return h("div", { class: "lineage-layout" }, graph.element, panel);
}

function catalog(): HTMLElement {
  const rows: { table: string; column: string; type: string; description: string; tests: string; text: string }[] = [];
  for (const a of data.actions) {
    const tests = a.assertions.map(short).join(", ");
    rows.push({ table: a.name, column: "", type: a.type, description: a.description, tests, text: "" });
    // A column's tests: the assertions on this table alone whose SQL names the column (uniqueKey, nonNull, rowConditions).
    const own = a.assertions.map((n) => assertionByName.get(n)).filter((x) => x && x.checks.length === 1 && x.checks[0] === a.name);
    for (const c of a.columns) {
      const word = new RegExp(`(^|[^\\w])"?${c.name.replace(/[^\w]/g, "\\$&")}"?([^\\w]|$)`, "i");
      const tested = own.filter((x) => word.test(x!.sql)).map((x) => short(x!.name));
      rows.push({ table: a.name, column: c.name, type: c.type, description: c.description, tests: tested.join(", "), text: "" });
    }
  }
  for (const r of rows) r.text = `${r.table} ${r.column} ${r.type} ${r.description} ${r.tests}`.toLowerCase();
  const body = h("tbody");
  const search = h("input", {
    type: "search",
    placeholder: "Search tables, columns, descriptions…",
    "aria-label": "Search the catalog",
    id: "catalog-search",
  });
  const countLine = h("p", { class: "muted" });
  const render = () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const hits = rows.filter((r) => words.every((w) => r.text.includes(w)));
    countLine.textContent = `${hits.length} of ${rows.length} entries`;
    body.replaceChildren(
      ...hits
        .slice(0, 2000)
        .map((r) =>
          h(
            "tr",
            { class: r.column ? "column-row" : "table-row" },
            h("td", {}, r.column ? "" : actionLink(r.table)),
            h("td", {}, r.column),
            h("td", {}, r.type),
            h("td", {}, cell(r.description)),
            h("td", {}, r.tests),
          ),
        ),
    );
  };
  search.addEventListener("input", render);
  render();
  return h(
    "div",
    {},
    search,
    countLine,
    h(
      "table",
      { class: "catalog" },
      h("thead", {}, h("tr", {}, ...["table", "column", "type", "description", "tests"].map((k) => h("th", {}, k)))),
      body,
    ),
  );
}

function route(): void {
  const [id, target] = location.hash.slice(1).split("/");
  show(id || "summary");
  if (id === "lineage" && target) selectAction(decodeURIComponent(target));
  if (id === "assertions" && target) {
    const card = document.querySelector<HTMLDetailsElement>(`details[data-assertion="${CSS.escape(decodeURIComponent(target))}"]`);
    if (card) {
      card.open = true;
      card.scrollIntoView();
    }
  }
}

header();
window.addEventListener("hashchange", route);
route();
