/** One CSV record and the physical line it starts on (1-based; quoted newlines count). */
export interface CsvRow {
  line: number;
  fields: string[];
}

/**
 * RFC 4180 CSV: comma-separated, `"` quotes with `""` as an escaped quote, quoted fields may span
 * lines, CRLF or LF endings, an optional UTF-8 BOM. Blank lines are skipped. Throws an Error
 * naming the line when a quoted field never closes or text follows a closing quote.
 */
export function parseCsv(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    let field = "";
    let quoted = false;
    for (;;) {
      if (i >= text.length) {
        fields.push(field);
        break;
      }
      const c = text[i]!;
      if (c === '"' && field === "" && !quoted) {
        quoted = true;
        i++;
        for (;;) {
          if (i >= text.length) throw new Error(`line ${start}: a quoted field is never closed`);
          const q = text[i]!;
          if (q === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (q === "\n") line++;
          field += q;
          i++;
        }
        const next = text[i];
        if (next !== undefined && next !== "," && next !== "\n" && next !== "\r") {
          throw new Error(`line ${line}: unexpected text after a closing quote`);
        }
        continue;
      }
      if (c === ",") {
        fields.push(field);
        field = "";
        quoted = false;
        i++;
        continue;
      }
      if (c === "\n" || c === "\r") {
        fields.push(field);
        i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
        line++;
        break;
      }
      field += c;
      i++;
    }
    if (!(fields.length === 1 && fields[0] === "" && !quoted)) rows.push({ line: start, fields });
  }
  return rows;
}

/** A value as one CSV field, quoted only when it must be. */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}
