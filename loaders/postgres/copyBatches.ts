import { createHash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";

/** One batch file cut from a COPY stream: whole rows, in the order the server sent them. The caller removes the file once it has landed. */
export interface CopyBatch {
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
  /** Bytes of the longest row, its newline left out: DuckDB's reader must be told about long rows. */
  longestRow: number;
  /** The batch's last row as COPY's text format wrote it, without its newline. */
  lastRow: string;
}

const NEWLINE = 0x0a;

/**
 * Cuts the output of `COPY … TO STDOUT` in text format into files of `batchRows` rows in `dir`.
 * In that format every row ends with a newline and a newline in a value is written `\n`, so a
 * row ends at every newline byte. A batch is yielded once its file is complete and closed; the
 * next one is written while the caller lands it, and nothing more is read from the stream until
 * the caller asks for it, so with each file removed once landed at most two batches are on disk
 * and about one chunk in memory. The last, shorter batch is yielded only when the stream ended
 * normally: one that errors mid-batch (a dropped connection) throws, and the partial file is not
 * yielded.
 */
export async function* copyBatches(source: AsyncIterable<Buffer>, dir: string, batchRows: number): AsyncGenerator<CopyBatch> {
  let index = 0;
  let file = openBatch(dir, index);
  // The part of the current row seen in earlier chunks, kept to read the batch's last row.
  let rowHead: Buffer[] = [];
  let rowBytes = 0;
  // Where the last complete row lies, for the last batch, which ends with the stream.
  let last: { head: Buffer[]; chunk: Buffer; from: number; to: number } = { head: rowHead, chunk: Buffer.alloc(0), from: 0, to: 0 };
  const lastRow = () => Buffer.concat([...last.head, last.chunk.subarray(last.from, last.to)]).toString("utf8");
  try {
    for await (const chunk of source) {
      let start = 0;
      let rowStart = 0;
      for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, nl + 1)) {
        const length = rowBytes + nl - rowStart;
        if (length > file.longestRow) file.longestRow = length;
        file.rows++;
        last = { head: rowHead, chunk, from: rowStart, to: nl };
        if (file.rows === batchRows) {
          await file.write(chunk.subarray(start, nl + 1));
          yield await file.close(lastRow());
          file = openBatch(dir, ++index);
          start = nl + 1;
        }
        rowHead = [];
        rowBytes = 0;
        rowStart = nl + 1;
      }
      if (rowStart < chunk.length) {
        rowHead.push(chunk.subarray(rowStart));
        rowBytes += chunk.length - rowStart;
      }
      if (start < chunk.length) await file.write(chunk.subarray(start));
    }
    if (rowBytes > 0) throw new Error("COPY ended in the middle of a row");
    if (file.rows > 0) yield await file.close(lastRow());
  } finally {
    file.abandon();
  }
}

/** A batch file being written: its counts, hash and the last complete row seen so far. */
function openBatch(dir: string, index: number) {
  const path = join(dir, `batch-${index}.copy`);
  const out: WriteStream = createWriteStream(path);
  out.on("error", () => undefined);
  const hash = createHash("sha256");
  const batch = {
    rows: 0,
    bytes: 0,
    longestRow: 0,
    async write(bytes: Buffer): Promise<void> {
      hash.update(bytes);
      batch.bytes += bytes.length;
      // once() rejects when the stream errors while it waits.
      if (!out.write(bytes)) await once(out, "drain");
    },
    async close(lastRow: string): Promise<CopyBatch> {
      out.end();
      await once(out, "finish");
      return { path, rows: batch.rows, bytes: batch.bytes, sha256: hash.digest("hex"), longestRow: batch.longestRow, lastRow };
    },
    abandon(): void {
      if (!out.writableFinished) out.destroy();
    },
  };
  return batch;
}
