/**
 * The pieces of Telegram Desktop's HTML export markup (export_output_html.cpp) that both
 * sample generators write: page file names, date texts and titles, escaping. Times are the
 * exporting machine's local time, in milliseconds since the epoch read as UTC.
 */

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** `messages.html`, `messages2.html`, …: the file of a chat's page `index` (from 0). */
export function pageName(index: number): string {
  return `messages${index > 0 ? index + 1 : ""}.html`;
}

/** `8 January 2024`, the text of a date separator. */
export function dayText(localMs: number): string {
  const d = new Date(localMs);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/** `09:05`, the time shown beside a message. */
export function timeText(localMs: number): string {
  const d = new Date(localMs);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** FormatDateTime: `DD.MM.YYYY HH:MM:SS`, plus ` UTC+03:00` unless `offsetMinutes` is null. */
export function titleDate(localMs: number, offsetMinutes: number | null): string {
  const d = new Date(localMs);
  const base = `${pad(d.getUTCDate())}.${pad(d.getUTCMonth() + 1)}.${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (offsetMinutes === null) return base;
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return `${base} UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}
