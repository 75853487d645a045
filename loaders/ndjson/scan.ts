import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";

const LF = 0x0a;
const CR = 0x0d;

/** The column delimiter given to DuckDB's CSV reader so that a whole line is one field. */
export const LINE_DELIMITER = "\x01\x02";
const DELIMITER_BYTES = Buffer.from(LINE_DELIMITER);

/** What one streaming pass over a file learns before anything is landed. */
export interface FileScan {
  /** sha256 of the bytes on disk (compressed, for a .gz). */
  sha256: string;
  bytes: number;
  /** Physical lines of the (decompressed) text: one per `\n`, plus an unterminated last line. */
  lines: number;
  /** Lines holding only spaces, tabs, a trailing CR or a BOM. */
  blankLines: number;
  /** The number of the last line that is not blank (0 when there is none). */
  lastNonBlankLine: number;
  /** Bytes in the longest line. */
  longestLine: number;
  /** Whether any line ends in CRLF. */
  hasCrLf: boolean;
  /**
   * Why DuckDB's CSV reader cannot be trusted to split this file into exactly its physical
   * lines, if it cannot: it treats a lone CR as a line break and rejects invalid UTF-8.
   */
  sqlBlocker?: string;
}

export function isGzip(path: string): boolean {
  return /\.gz$/i.test(path);
}

/**
 * Hashes, counts and checks a file in one pass of bounded memory. Line counting is done
 * here, independently of DuckDB, so that the loader can check DuckDB's count against it.
 * A line longer than `maxLineBytes` is one the CSV reader must not be asked to hold.
 */
export async function scanFile(path: string, onBytes?: (bytes: number) => void, maxLineBytes = Infinity): Promise<FileScan> {
  const hash = createHash("sha256");
  let bytes = 0;
  const lines = new LineCounter();
  const hashing = async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      hash.update(chunk);
      bytes += chunk.length;
      onBytes?.(bytes);
      yield chunk;
    }
  };
  const counting = async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) lines.push(chunk);
  };
  const input = createReadStream(path, { highWaterMark: 1 << 20 });
  if (isGzip(path)) await pipeline(input, hashing, createGunzip(), counting);
  else await pipeline(input, hashing, counting);
  const counted = lines.finish();
  if (!counted.sqlBlocker && counted.longestLine > maxLineBytes) counted.sqlBlocker = "it has a line over the line limit";
  return { sha256: hash.digest("hex"), bytes, ...counted };
}

/** Counts lines and blank lines over a stream of chunks and notes what the CSV reader would get wrong. */
class LineCounter {
  private lines = 0;
  private blankLines = 0;
  private lastNonBlankLine = 0;
  private longestLine = 0;
  private hasCrLf = false;
  private loneCr = false;
  private delimiter = false;
  private invalidUtf8 = false;
  /** Bytes of the current line so far, and whether it has shown anything but blank bytes. */
  private lineBytes = 0;
  private lineHasContent = false;
  private lineAtStart = true;
  private previousEndedInCr = false;
  /** An incomplete UTF-8 sequence cut by the chunk boundary. */
  private utf8Carry: Buffer = Buffer.alloc(0);
  /** The chunk's last byte(s), to find a delimiter cut by the chunk boundary. */
  private tail: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.checkUtf8(chunk);
    this.checkCarriageReturns(chunk);
    if (!this.delimiter) {
      const joined = this.tail.length ? Buffer.concat([this.tail, chunk.subarray(0, DELIMITER_BYTES.length)]) : null;
      if ((joined && joined.indexOf(DELIMITER_BYTES) !== -1) || chunk.indexOf(DELIMITER_BYTES) !== -1) this.delimiter = true;
      this.tail = chunk.subarray(chunk.length - (DELIMITER_BYTES.length - 1));
    }
    let start = 0;
    let end = chunk.indexOf(LF);
    while (end !== -1) {
      this.consume(chunk, start, end);
      this.endLine();
      start = end + 1;
      end = chunk.indexOf(LF, start);
    }
    this.consume(chunk, start, chunk.length);
  }

  finish(): Omit<FileScan, "sha256" | "bytes"> {
    if (this.lineBytes > 0) this.endLine();
    if (this.utf8Carry.length > 0) this.invalidUtf8 = true;
    // A CR as the file's very last byte ends no line either.
    if (this.previousEndedInCr) this.loneCr = true;
    const sqlBlocker = this.invalidUtf8
      ? "it is not valid UTF-8"
      : this.loneCr
        ? "it has a carriage return that does not end a line"
        : this.delimiter
          ? "it contains the byte sequence used as the reader's delimiter"
          : undefined;
    return {
      lines: this.lines,
      blankLines: this.blankLines,
      lastNonBlankLine: this.lastNonBlankLine,
      longestLine: this.longestLine,
      hasCrLf: this.hasCrLf,
      sqlBlocker,
    };
  }

  /** Takes in bytes [start, end) of the current line. */
  private consume(chunk: Buffer, start: number, end: number): void {
    this.lineBytes += end - start;
    if (this.lineHasContent || start === end) return;
    let i = start;
    if (this.lineAtStart && end - start >= 3 && chunk[i] === 0xef && chunk[i + 1] === 0xbb && chunk[i + 2] === 0xbf) i += 3;
    this.lineAtStart = false;
    for (; i < end; i++) {
      const b = chunk[i];
      if (b !== 0x20 && b !== 0x09 && b !== CR) {
        this.lineHasContent = true;
        return;
      }
    }
  }

  private endLine(): void {
    this.lines++;
    if (this.lineBytes > this.longestLine) this.longestLine = this.lineBytes;
    if (this.lineHasContent) this.lastNonBlankLine = this.lines;
    else this.blankLines++;
    this.lineBytes = 0;
    this.lineHasContent = false;
    this.lineAtStart = true;
  }

  private checkCarriageReturns(chunk: Buffer): void {
    if (this.previousEndedInCr) {
      if (chunk[0] === LF) this.hasCrLf = true;
      else this.loneCr = true;
    }
    let i = chunk.indexOf(CR);
    while (i !== -1 && i < chunk.length - 1) {
      if (chunk[i + 1] === LF) this.hasCrLf = true;
      else this.loneCr = true;
      i = chunk.indexOf(CR, i + 1);
    }
    this.previousEndedInCr = chunk.length > 0 && chunk[chunk.length - 1] === CR;
  }

  /** Validates UTF-8 chunk by chunk, carrying a sequence that the chunk boundary cuts. */
  private checkUtf8(chunk: Buffer): void {
    if (this.invalidUtf8) return;
    let body = chunk;
    if (this.utf8Carry.length > 0) {
      const need = sequenceLength(this.utf8Carry[0]) - this.utf8Carry.length;
      const joined = Buffer.concat([this.utf8Carry, chunk.subarray(0, need)]);
      if (joined.length < sequenceLength(this.utf8Carry[0])) {
        this.utf8Carry = joined;
        return;
      }
      if (!isUtf8(joined)) this.invalidUtf8 = true;
      body = chunk.subarray(need);
    }
    const cut = incompleteTail(body);
    this.utf8Carry = Buffer.from(body.subarray(cut));
    if (!isUtf8(body.subarray(0, cut))) this.invalidUtf8 = true;
  }
}

function sequenceLength(lead: number): number {
  return lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
}

/** Where a UTF-8 sequence that the end of `buffer` cuts short begins (buffer.length if none). */
function incompleteTail(buffer: Buffer): number {
  for (let k = 1; k <= Math.min(3, buffer.length); k++) {
    const b = buffer[buffer.length - k];
    if ((b & 0xc0) === 0x80) continue;
    return b >= 0xc0 && sequenceLength(b) > k ? buffer.length - k : buffer.length;
  }
  return buffer.length;
}
