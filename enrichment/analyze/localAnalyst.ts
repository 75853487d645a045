import type { WireContext } from "./context.ts";
import type { Analysis, InsightItem } from "./insight.ts";

/** Bump with any change to the rules below: it is the model name, so part of every analysis key. */
export const LOCAL_ANALYST_MODEL = "local-analyst-v1";

type Message = WireContext["messages"][number];

const VAGUE_TOPICS = new Set(["feature", "feature request", "request", "episode", "show", "app", "update", "way"]);

/**
 * The offline analyst: what the rules can read from a user-day without a model. Messages speak
 * through the category and topics enrichment gave them (a feature request for a sleep timer is the
 * friction "missing: sleep timer"); behaviour speaks through the metrics (a credit-limit hit is
 * friction and a pay signal at once). Every item cites the messages or metrics it came from.
 */
export function analyseLocally(context: WireContext): Analysis {
  const lists = { use_cases: items(), friction_points: items(), value_signals: items(), pay_signals: items() };
  const m = context.metrics;
  // The first topic that says what, not that it is a request or about an episode.
  const about = (msg: Message) => msg.topics.find((t) => !VAGUE_TOPICS.has(t));

  for (const msg of context.messages) {
    switch (msg.category) {
      // Without a topic a request or a question says too little to count with others.
      case "feature_request":
        if (about(msg)) lists.friction_points.add(`missing: ${about(msg)}`, [msg.id]);
        break;
      case "bug_report":
        lists.friction_points.add(about(msg) ? `bug: ${about(msg)}` : "bug", [msg.id]);
        break;
      case "question":
        if (about(msg)) lists.friction_points.add(`unclear: ${about(msg)}`, [msg.id]);
        break;
      case "onboarding":
        lists.use_cases.add("getting started", [msg.id]);
        break;
      case "credits_pricing":
        lists.pay_signals.add(/\b(?:upgrad|pay|price|cost|cheaper)/i.test(msg.text) ? "asks about pricing" : "wants more credits", [
          msg.id,
        ]);
        break;
      case "praise":
        lists.value_signals.add("praises the product", [msg.id]);
        break;
      case "churn_risk":
        lists.friction_points.add("considering leaving", [msg.id]);
        break;
      case "content":
        lists.use_cases.add(about(msg) ? `discussing ${about(msg)}` : "discussing episodes", [msg.id]);
        break;
    }
  }
  for (const topic of context.listened_topics) lists.use_cases.add(`listening: ${topic}`, [], ["plays", "episodes"]);
  if (m.downloads > 0) lists.use_cases.add("offline listening", [], ["downloads"]);
  if (m.completes > 0) lists.value_signals.add("completes episodes", [], ["completes"]);
  if (m.downloads > 0) lists.value_signals.add("downloads episodes", [], ["downloads"]);
  if (m.shares > 0) lists.value_signals.add("shares episodes", [], ["shares"]);
  if (m.active_days_7d >= 4) lists.value_signals.add("returns most days", [], ["active_days_7d"]);
  if (m.credit_limit_hits > 0) {
    lists.friction_points.add("credit limit", [], ["credit_limit_hits"]);
    lists.pay_signals.add("credit exhaustion", [], ["credit_limit_hits"]);
  }
  if (m.credits_used > 0) lists.pay_signals.add("spends credits on premium", [], ["credits_used"]);

  const negative = context.messages.filter((x) => x.category === "bug_report" || x.category === "churn_risk");
  const positive = context.messages.filter((x) => x.category === "praise");
  const score = context.messages.length === 0 ? 0 : (positive.length - negative.length) / context.messages.length;
  const churn = context.messages.filter((x) => x.category === "churn_risk");
  const fading = m.active_days_28d >= 8 && m.active_days_7d <= 1;
  return {
    ...Object.fromEntries(Object.entries(lists).map(([k, v]) => [k, v.top()])),
    sentiment: {
      label: score > 0.1 ? "positive" : score < -0.1 ? "negative" : "neutral",
      score: Math.round(score * 100) / 100,
      evidence: (score > 0.1 ? positive : score < -0.1 ? negative : []).map((x) => x.id).slice(0, 10),
    },
    churn_risk: {
      level: churn.length > 0 ? "high" : fading || m.credit_limit_hits > 1 ? "medium" : "low",
      evidence: churn.map((x) => x.id).slice(0, 10),
      metrics:
        churn.length > 0 ? [] : fading ? ["active_days_7d", "active_days_28d"] : m.credit_limit_hits > 1 ? ["credit_limit_hits"] : [],
    },
  } as Analysis;
}

/** Items by label, evidence merged, the best-supported first. */
function items() {
  const byLabel = new Map<string, InsightItem>();
  return {
    add(label: string, evidence: string[], metrics: InsightItem["metrics"] = []): void {
      const key = label.trim().toLowerCase().slice(0, 80);
      const item = byLabel.get(key) ?? { label: key, evidence: [], metrics: [] };
      item.evidence = [...new Set([...item.evidence, ...evidence])].slice(0, 10);
      item.metrics = [...new Set([...item.metrics, ...metrics])];
      byLabel.set(key, item);
    },
    top(): InsightItem[] {
      return [...byLabel.values()]
        .sort((a, b) => b.evidence.length + b.metrics.length - (a.evidence.length + a.metrics.length) || (a.label < b.label ? -1 : 1))
        .slice(0, 5);
    },
  };
}
