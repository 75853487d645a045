import { isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { formatSize } from "../size.ts";
import { isGzip } from "./scan.ts";

/** One physical line: its text without the line ending, or, when not UTF-8, a readable escape and why. */
export interface Line {
  n: number;
  text: string;
  error?: string;
}

/** How many lines, and bytes of them, a batch holds at most, and the longest line kept whole. */
export interface LineLimits {
  lines: number;
  bytes: number;
  maxLineBytes: number;
}

/** How much of a line over the limit the quarantine keeps, to show what it was. */
const KEPT_OF_OVERLONG_LINE = 64 * 1024;

/**
 * The physical lines of a file (gunzipped if .gz), in batches, with only the current batch
 * and one read chunk in memory. Splits on LF only and drops one CR before it, so that a lone
 * CR stays inside its line, as the line counter counts it. A line longer than
 * `maxLineBytes` is never assembled: its first bytes come with an error giving its size.
 */
export async function* readLines(path: string, limits: LineLimits): AsyncGenerator<Line[]> {
  const input = createReadStream(path, { highWaterMark: 1 << 20 });
  const source: Readable = isGzip(path) ? input.pipe(createGunzip()) : input;
  if (source !== input) input.on("error", (error) => source.destroy(error));
  let n = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let batch: Line[] = [];
  let batchBytes = 0;
  let overlong = false;
  const take = (piece: Buffer) => {
    pendingBytes += piece.length;
    if (overlong) return;
    pending.push(piece);
    if (pendingBytes > limits.maxLineBytes) {
      // From here on the line is only counted: its head is all the quarantine keeps.
      pending = [Buffer.concat(pending, KEPT_OF_OVERLONG_LINE)];
      overlong = true;
    }
  };
  const endLine = (): Line => {
    const bytes = pending.length === 1 ? pending[0] : Buffer.concat(pending);
    const line = overlong ? overlongLine(++n, bytes, pendingBytes, limits.maxLineBytes) : decodeLine(++n, bytes);
    batchBytes += bytes.length;
    pending = [];
    pendingBytes = 0;
    overlong = false;
    return line;
  };
  for await (const chunk of source as AsyncIterable<Buffer>) {
    let start = 0;
    let end = chunk.indexOf(0x0a);
    while (end !== -1) {
      take(chunk.subarray(start, end));
      batch.push(endLine());
      if (batch.length >= limits.lines || batchBytes >= limits.bytes) {
        yield batch;
        batch = [];
        batchBytes = 0;
      }
      start = end + 1;
      end = chunk.indexOf(0x0a, start);
    }
    if (start < chunk.length) take(chunk.subarray(start));
  }
  if (pendingBytes > 0) batch.push(endLine());
  if (batch.length) yield batch;
}

/** The head of a line too long to land, with the reason. */
function overlongLine(n: number, head: Buffer, bytes: number, limit: number): Line {
  const { text } = escapeInvalidUtf8(head);
  return {
    n,
    text,
    error: `line of ${bytes.toLocaleString("en")} bytes (${formatSize(bytes)}) is over the ${formatSize(limit)} line limit; its first ${head.length.toLocaleString("en")} bytes are kept`,
  };
}

function decodeLine(n: number, bytes: Buffer): Line {
  const body = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, -1) : bytes;
  if (isUtf8(body)) return { n, text: body.toString("utf8") };
  const { text, firstBad } = escapeInvalidUtf8(body);
  return { n, text, error: `invalid UTF-8 at byte ${firstBad + 1} of the line` };
}

/**
 * The line as text, each byte that is not part of a valid UTF-8 sequence written as `\xNN`,
 * so that the quarantine shows exactly which bytes were wrong.
 */
export function escapeInvalidUtf8(bytes: Buffer): { text: string; firstBad: number } {
  let text = "";
  let firstBad = -1;
  let i = 0;
  let runStart = 0;
  while (i < bytes.length) {
    const size = validSequenceAt(bytes, i);
    if (size > 0) {
      i += size;
      continue;
    }
    if (firstBad < 0) firstBad = i;
    text += bytes.toString("utf8", runStart, i) + `\\x${bytes[i].toString(16).padStart(2, "0").toUpperCase()}`;
    i += 1;
    runStart = i;
  }
  text += bytes.toString("utf8", runStart, i);
  return { text, firstBad };
}

/** The length of the valid UTF-8 sequence starting at `i`, or 0 if there is none. */
function validSequenceAt(bytes: Buffer, i: number): number {
  const b = bytes[i];
  if (b < 0x80) return 1;
  const size = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  if (size === 0 || i + size > bytes.length) return 0;
  return isUtf8(bytes.subarray(i, i + size)) ? size : 0;
}
