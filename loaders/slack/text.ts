/** Looks up the names that Slack's mrkdwn refers to by id. */
export interface SlackNames {
  user(id: string): string | undefined;
  channel(id: string): string | undefined;
}

const entities: Record<string, string> = { "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&#39;": "'" };

/**
 * Slack's stored message text as a reader sees it: `<@U…>` → `@name`, `<#C…|name>` → `#name`,
 * `<!here>` → `@here`, `<url|label>` → `label`, `<url>` → `url`, then the three HTML entities
 * Slack escapes (`&amp;` last, so `&amp;lt;` stays `&lt;`).
 */
export function decodeSlackText(text: string, names: SlackNames): string {
  const decoded = text.replace(/<([^<>]*)>/g, (_whole, inner: string) => decodeToken(inner, names));
  return decoded.replace(/&(lt|gt|amp|quot|#39);/g, (e) => entities[e] ?? e);
}

function decodeToken(inner: string, names: SlackNames): string {
  const bar = inner.indexOf("|");
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? undefined : inner.slice(bar + 1);
  if (target.startsWith("@")) {
    const id = target.slice(1);
    return `@${names.user(id) ?? label ?? id}`;
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    return `#${label || names.channel(id) || id}`;
  }
  if (target.startsWith("!")) {
    const command = target.slice(1);
    if (label) return label;
    // `<!subteam^S123>` and `<!date^…>` without a fallback label: keep the part a reader recognises.
    return `@${command.split("^")[0]}`;
  }
  return label ?? target;
}
