import { join, resolve } from "node:path";
import { writeAnalysisDatabase, type TestEvent } from "./analysisDatabase.ts";
import { writeEnrichmentDatabase, type TestMessage, type TestUser } from "./enrichmentDatabase.ts";
import { tempDir } from "./tmp.ts";

export { distinctMessages, type TestMessage, type TestUser } from "./enrichmentDatabase.ts";

export const REPO = resolve(import.meta.dirname, "..", "..");

/** A temp database with the repo's seeds and the silver tables enrichment reads, removed after the test. */
export function enrichmentDatabase(messages: TestMessage[], users: TestUser[] = []): Promise<string> {
  return writeEnrichmentDatabase(join(tempDir("duckform-enrich-"), "duckform.duckdb"), REPO, messages, users);
}

/** A temp database with what `analyze users` reads (analysisDatabase.ts), removed after the test. */
export function analysisDatabase(messages: TestMessage[], events: TestEvent[]): Promise<string> {
  return writeAnalysisDatabase(join(tempDir("duckform-analyze-"), "duckform.duckdb"), messages, events);
}
