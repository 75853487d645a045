import { createHash } from "node:crypto";
import type { UserDay } from "./context.ts";

export type Selection = "all" | "sample" | "anomaly";

export interface Selected {
  day: UserDay;
  selection: Selection;
  /** The anomalies for an anomaly, the stratum for a sample. */
  reason: string | null;
}

/** Seed 002's scaling plan, and what it did on one day. */
export interface SelectionReport {
  active: number;
  consenting: number;
  cap: number | null;
  selected: number;
  sampled: number;
  anomalies: number;
  /** stratum → [consenting active, sampled]. */
  strata: Record<string, [number, number]>;
  note: string;
}

/**
 * Who is analysed on a day. Only consenting people are ever candidates. Up to `cap`, everyone;
 * above it, every anomaly (a sudden drop in activity, a first credit-limit hit, a churn-risk
 * flag) and a sample of the rest, stratified by segment: the cap left after the anomalies,
 * split over the strata in proportion to their size (largest remainders), each stratum's
 * members picked by a hash of person and day, so a rerun picks the same people.
 */
export function selectUsers(days: UserDay[], cap: number | null): { selected: Selected[]; report: SelectionReport } {
  const candidates = days.filter((d) => d.consent);
  const strata: Record<string, [number, number]> = {};
  for (const d of candidates) (strata[d.stratum] ??= [0, 0])[0] += 1;
  const base = { active: days.length, consenting: candidates.length, cap, strata };
  if (cap === null || candidates.length <= cap) {
    for (const s of Object.values(strata)) s[1] = s[0];
    const selected = candidates.map((day) => ({ day, selection: "all" as const, reason: null }));
    const note = `${candidates.length} of ${days.length} active people analysed (everyone with consent${cap === null ? "" : `, under the cap of ${cap}`})`;
    return { selected, report: { ...base, selected: selected.length, sampled: 0, anomalies: 0, note } };
  }
  const anomalies = candidates.filter((d) => d.anomalies.length > 0);
  const rest = candidates.filter((d) => d.anomalies.length === 0);
  const room = Math.max(0, cap - anomalies.length);
  const byStratum = new Map<string, UserDay[]>();
  for (const d of rest) byStratum.set(d.stratum, [...(byStratum.get(d.stratum) ?? []), d]);
  const quotas = apportion(new Map([...byStratum].map(([s, members]) => [s, members.length])), Math.min(room, rest.length));
  const sampled: Selected[] = [];
  for (const [stratum, members] of [...byStratum].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const quota = quotas.get(stratum) ?? 0;
    const picked = [...members].sort((a, b) => (rank(a) < rank(b) ? -1 : 1)).slice(0, quota);
    strata[stratum]![1] = picked.length;
    for (const day of picked) sampled.push({ day, selection: "sample", reason: stratum });
  }
  const kept = anomalies.map((day) => ({ day, selection: "anomaly" as const, reason: day.anomalies.join(",") }));
  for (const a of kept) strata[a.day.stratum]![1] += 1;
  const selected = [...kept, ...sampled].sort((a, b) => (a.day.userKey < b.day.userKey ? -1 : 1));
  const note =
    `${candidates.length} consenting of ${days.length} active is above the cap of ${cap}: ` +
    `${kept.length} anomalies kept, ${sampled.length} sampled across ${byStratum.size} strata` +
    (kept.length > cap ? ` (the anomalies alone exceed the cap)` : "");
  return { selected, report: { ...base, selected: selected.length, sampled: sampled.length, anomalies: kept.length, note } };
}

/** `total` seats over groups in proportion to their sizes, by largest remainder; ties by name. */
function apportion(sizes: Map<string, number>, total: number): Map<string, number> {
  const sum = [...sizes.values()].reduce((a, b) => a + b, 0);
  const out = new Map<string, number>();
  if (sum === 0) return out;
  const shares = [...sizes].map(([k, n]) => ({ k, exact: (n * total) / sum }));
  for (const s of shares) out.set(s.k, Math.floor(s.exact));
  let left = total - [...out.values()].reduce((a, b) => a + b, 0);
  for (const s of [...shares].sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)) || (a.k < b.k ? -1 : 1))) {
    if (left <= 0) break;
    out.set(s.k, out.get(s.k)! + 1);
    left -= 1;
  }
  return out;
}

function rank(day: UserDay): string {
  return createHash("sha256").update(`${day.userKey}\u001f${day.day}`).digest("hex");
}
