import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import type { ReportData } from "../data.ts";
import { h, short } from "./dom.ts";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);
Chart.defaults.animation = false;
Chart.defaults.font.family = "system-ui, sans-serif";

export const STATUS_COLORS: Record<string, string> = {
  success: "#2e9e5b",
  failed: "#d64545",
  skipped: "#e0a030",
  disabled: "#9aa0a6",
};

function canvas(height: number): { box: HTMLDivElement; canvas: HTMLCanvasElement } {
  const c = h("canvas");
  return { box: h("div", { class: "chart", style: `height:${height}px` }, c), canvas: c };
}

const runLabel = (r: Record<string, unknown>) => String(r.started_at ?? "").slice(5, 16);

/** Stacked actions by status, one bar per run. */
export function statusOverRuns(runs: ReportData["runs"]): HTMLElement {
  const { box, canvas: c } = canvas(220);
  new Chart(c, {
    type: "bar",
    data: {
      labels: runs.map(runLabel),
      datasets: ["success", "failed", "skipped", "disabled"].map((status) => ({
        label: status,
        data: runs.map((r) => Number(r[status] ?? 0)),
        backgroundColor: STATUS_COLORS[status],
      })),
    },
    options: {
      maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "actions" } } },
    },
  });
  return box;
}

export function durationPerRun(runs: ReportData["runs"]): HTMLElement {
  const { box, canvas: c } = canvas(220);
  new Chart(c, {
    type: "line",
    data: {
      labels: runs.map(runLabel),
      datasets: [{ label: "wall seconds", data: runs.map((r) => Number(r.seconds)), borderColor: "#3b6fd4" }],
    },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, title: { display: true, text: "seconds" } } } },
  });
  return box;
}

export function rowsPerLayer(layers: ReportData["layerRows"]): HTMLElement {
  const { box, canvas: c } = canvas(220);
  new Chart(c, {
    type: "bar",
    data: {
      labels: layers.map((l) => l.layer),
      datasets: [{ label: "rows", data: layers.map((l) => l.rows), backgroundColor: "#3b6fd4" }],
    },
    options: { maintainAspectRatio: false, plugins: { legend: { display: false } } },
  });
  return box;
}

/** The last run's actions as floating bars from their start to their end (a Gantt), in order of start. */
export function timeline(actions: Record<string, unknown>[]): HTMLElement {
  const ran = actions.filter((a) => a.started_ms !== null && a.started_ms !== undefined);
  const t0 = Math.min(...ran.map((a) => Number(a.started_ms)));
  const start = (a: Record<string, unknown>) => (Number(a.started_ms) - t0) / 1000;
  const { box, canvas: c } = canvas(Math.max(160, ran.length * 14 + 60));
  new Chart(c, {
    type: "bar",
    data: {
      labels: ran.map((a) => short(String(a.name))),
      datasets: [
        {
          label: "seconds from the run's start",
          data: ran.map((a) => [start(a), start(a) + Math.max(Number(a.seconds), 0.002)] as [number, number]),
          backgroundColor: ran.map((a) => STATUS_COLORS[String(a.status)] ?? "#888"),
          barThickness: 10,
        },
      ],
    },
    options: {
      indexAxis: "y",
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: {
        x: { beginAtZero: true, title: { display: true, text: "seconds" } },
        y: { ticks: { autoSkip: false, font: { size: 10 } } },
      },
    },
  });
  return box;
}
