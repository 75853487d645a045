/** DOM helpers for the report page: every text goes in through textContent, never as markup. */

type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | ((event: Event) => void) | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    if (typeof value === "function") el.addEventListener(key.replace(/^on/, ""), value);
    else el.setAttribute(key, value);
  }
  for (const child of children)
    if (child !== null && child !== undefined && child !== false) el.append(typeof child === "number" ? String(child) : child);
  return el;
}

/** A table of rows; `columns` picks and orders the keys, formatting each cell as text. */
export function table(rows: Record<string, unknown>[], columns?: string[], attrs: Record<string, string> = {}): HTMLTableElement {
  const keys = columns ?? Object.keys(rows[0] ?? {});
  return h(
    "table",
    attrs,
    h("thead", {}, h("tr", {}, ...keys.map((k) => h("th", {}, k)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...keys.map((k) => h("td", {}, cell(r[k])))))),
  );
}

export function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function badge(status: string): HTMLSpanElement {
  return h("span", { class: `badge ${status.replace(/\s+/g, "-")}` }, status);
}

export function short(name: string): string {
  return name.split(".").slice(-2).join(".");
}

export function formatNumber(n: number | null | undefined): string {
  return n === null || n === undefined ? "" : n.toLocaleString("en-US");
}
