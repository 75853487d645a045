import type { AnalyzeResult } from "./analyze.ts";
import { SEGMENT_DAYS } from "./segment.ts";

/** The run's report in lines: per day, who was active, who could be sent, what the scaling plan selected and why. */
export function describeAnalysis(result: AnalyzeResult): string[] {
  const lines = result.days.map(
    (d) =>
      `analyze ${d.day}: ${d.note}; ${d.cached} cached, ${d.analysed} analysed, ${d.deadLettered} dead-lettered` +
      (d.left > 0 ? `, ${d.left} left for the next run` : ""),
  );
  if (result.days.length === 0) lines.push("analyze: nobody was active: nothing to analyse");
  lines.push(
    `analyze: ${result.provider} ${result.model}, ${result.requests} requests (${result.retries} retries, ${result.invalidResponses} answers rejected), ` +
      `${result.inputTokens + result.outputTokens} tokens` +
      (result.costUsd > 0 ? `, $${result.costUsd.toFixed(4)}` : "") +
      (result.status === "complete" ? "" : `; ${result.status}${result.note ? `: ${result.note}` : ""}`),
  );
  const segments = result.segments;
  if (segments)
    lines.push(
      `segments (${segments.users} people, ${SEGMENT_DAYS} days to ${segments.day}; ${segments.embedded} also by their messages' ` +
        `${segments.embeddingModel} embeddings; labels from ${segments.labelledBy === "rules" ? "rules" : `${result.model}${segments.labelledBy === "cache" ? ", cached" : ""}`}): ` +
        segments.segments.map((s) => `${s.label} ${s.users}`).join(", ") +
        (segments.note ? ` (${segments.note})` : ""),
    );
  if (result.status === "provider_unavailable")
    lines.push("duckform: the provider is down; the rest waits for the next run, and `duckform run` still builds every metric.");
  return lines;
}
