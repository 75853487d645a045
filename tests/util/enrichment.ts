import { join, resolve } from "node:path";
import { writeEnrichmentDatabase, type TestMessage, type TestUser } from "./enrichmentDatabase.ts";
import { tempDir } from "./tmp.ts";

export { distinctMessages, type TestMessage, type TestUser } from "./enrichmentDatabase.ts";

export const REPO = resolve(import.meta.dirname, "..", "..");

/** A temp database with the repo's seeds and the silver tables enrichment reads, removed after the test. */
export function enrichmentDatabase(messages: TestMessage[], users: TestUser[] = []): Promise<string> {
  return writeEnrichmentDatabase(join(tempDir("duckform-enrich-"), "duckform.duckdb"), REPO, messages, users);
}
