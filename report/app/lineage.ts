import { Graph, layout } from "@dagrejs/dagre";
import type { ActionNode } from "../data.ts";
import { h } from "./dom.ts";

const SVG = "http://www.w3.org/2000/svg";
const LAYER_ORDER = ["raw", "seeds", "bronze", "silver", "enrichment", "gold"];
export const SCHEMA_COLORS: Record<string, string> = {
  raw: "#8d6e63",
  seeds: "#a1887f",
  bronze: "#c77d3a",
  silver: "#78909c",
  enrichment: "#7e57c2",
  gold: "#c9a227",
};

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * The lineage graph: dagre lays the actions out left to right, each schema a cluster, so the
 * layers read sources → bronze → silver → gold. Drag to pan, wheel to zoom, type to find.
 * Assertions are not nodes: each node lists its own, which keeps 150 actions readable.
 */
export function lineage(actions: ActionNode[], onSelect: (name: string) => void): { element: HTMLElement; select: (name: string) => void } {
  const g = new Graph({ compound: true });
  g.setGraph({ rankdir: "LR", nodesep: 8, ranksep: 60, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const known = new Set(actions.map((a) => a.name));
  const schemas = [...new Set(actions.map((a) => a.schema))].sort(
    (a, b) => (LAYER_ORDER.indexOf(a) + 1 || 99) - (LAYER_ORDER.indexOf(b) + 1 || 99),
  );
  for (const schema of schemas) g.setNode(`schema:${schema}`, { label: schema });
  for (const a of actions) {
    const label = a.name.split(".").pop()!;
    g.setNode(a.name, { label, width: Math.max(90, label.length * 6.6 + 16), height: 22 });
    g.setParent(a.name, `schema:${a.schema}`);
  }
  for (const a of actions) for (const d of a.dependencies) if (known.has(d)) g.setEdge(d, a.name);
  layout(g);

  const { width = 800, height = 600 } = g.graph();
  const root = svg("svg", { class: "lineage", "data-testid": "lineage-graph" });
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#999" }));
  defs.append(marker);
  const world = svg("g");
  root.append(defs, world);

  for (const schema of schemas) {
    const c = g.node(`schema:${schema}`);
    if (!c) continue;
    const rect = svg("rect", { x: c.x - c.width / 2, y: c.y - c.height / 2, width: c.width, height: c.height, rx: 6, class: "cluster" });
    rect.style.stroke = SCHEMA_COLORS[schema] ?? "#bbb";
    const text = svg("text", { x: c.x - c.width / 2 + 6, y: c.y - c.height / 2 + 13, class: "cluster-label" });
    text.textContent = schema;
    world.append(rect, text);
  }
  for (const e of g.edges()) {
    const points = g.edge(e).points ?? [];
    const d = points.map((p: { x: number; y: number }, i: number) => `${i ? "L" : "M"}${p.x},${p.y}`).join(" ");
    world.append(svg("path", { d, class: "edge", "marker-end": "url(#arrow)", "data-from": e.v, "data-to": e.w }));
  }
  const nodes = new Map<string, SVGGElement>();
  for (const a of actions) {
    const n = g.node(a.name);
    const group = svg("g", { class: "node", "data-name": a.name, transform: `translate(${n.x - n.width / 2},${n.y - n.height / 2})` });
    const rect = svg("rect", { width: n.width, height: n.height, rx: 4 });
    rect.style.fill = SCHEMA_COLORS[a.schema] ?? "#90a4ae";
    const text = svg("text", { x: 8, y: 15 });
    text.textContent = n.label ?? a.name;
    const title = svg("title");
    title.textContent = `${a.name} (${a.type})${a.assertions.length ? `, ${a.assertions.length} assertions` : ""}`;
    group.append(rect, text, title);
    group.addEventListener("click", () => onSelect(a.name));
    world.append(group);
    nodes.set(a.name, group);
  }

  // Pan and zoom by moving the viewBox.
  let view = { x: 0, y: 0, w: width, h: height };
  const apply = () => root.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
  apply();
  // Fitting 150 actions in the box makes their labels unreadable: start at no less than 3/4
  // scale, at the sources' end, and leave the whole graph to the Fit button.
  requestAnimationFrame(() => {
    const box = root.getBoundingClientRect();
    if (!box.width || !box.height) return;
    const scale = Math.max(Math.min(box.width / width, box.height / height), 0.75);
    const w = box.width / scale;
    const hgt = box.height / scale;
    view = { x: 0, y: Math.max(0, (height - hgt) / 2), w, h: hgt };
    if (selected) reveal(selected);
    apply();
  });
  root.addEventListener("wheel", (event) => {
    event.preventDefault();
    const k = event.deltaY > 0 ? 1.15 : 1 / 1.15;
    const box = root.getBoundingClientRect();
    const px = view.x + ((event.clientX - box.left) / box.width) * view.w;
    const py = view.y + ((event.clientY - box.top) / box.height) * view.h;
    view = { x: px - (px - view.x) * k, y: py - (py - view.y) * k, w: view.w * k, h: view.h * k };
    apply();
  });
  let drag: { x: number; y: number } | null = null;
  root.addEventListener("mousedown", (event) => (drag = { x: event.clientX, y: event.clientY }));
  window.addEventListener("mouseup", () => (drag = null));
  root.addEventListener("mousemove", (event) => {
    if (!drag) return;
    const box = root.getBoundingClientRect();
    view.x -= ((event.clientX - drag.x) / box.width) * view.w;
    view.y -= ((event.clientY - drag.y) / box.height) * view.h;
    drag = { x: event.clientX, y: event.clientY };
    apply();
  });

  let selected: string | null = null;
  /** Moves the view to a node that is out of it (a link from elsewhere in the report). */
  const reveal = (name: string) => {
    const n = g.node(name);
    if (!n || (n.x > view.x && n.x < view.x + view.w && n.y > view.y && n.y < view.y + view.h)) return;
    view = { ...view, x: n.x - view.w / 2, y: n.y - view.h / 2 };
    apply();
  };
  const select = (name: string) => {
    selected = name;
    reveal(name);
    for (const [n, el] of nodes) el.classList.toggle("selected", n === name);
    for (const edge of world.querySelectorAll<SVGPathElement>("path.edge")) {
      edge.classList.toggle("related", edge.dataset.from === name || edge.dataset.to === name);
    }
  };
  const find = h("input", { type: "search", placeholder: "Find an action…", "aria-label": "Find an action" });
  find.addEventListener("input", () => {
    const q = find.value.trim().toLowerCase();
    for (const [n, el] of nodes) el.classList.toggle("dim", !!q && !n.toLowerCase().includes(q));
  });
  find.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    const q = find.value.trim().toLowerCase();
    const hit = actions.find((a) => a.name.toLowerCase().includes(q));
    if (!hit) return;
    onSelect(hit.name);
  });
  const fit = h("button", { type: "button" }, "Fit");
  fit.addEventListener("click", () => {
    view = { x: 0, y: 0, w: width, h: height };
    apply();
  });
  const legend = h(
    "div",
    { class: "legend" },
    ...schemas.map((s) => h("span", {}, h("i", { style: `background:${SCHEMA_COLORS[s] ?? "#90a4ae"}` }), s)),
  );
  const element = h("div", { class: "lineage-box" }, h("div", { class: "toolbar" }, find, fit, legend), root);
  return { element, select };
}
