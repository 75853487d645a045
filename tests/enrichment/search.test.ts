import { afterEach, describe, expect, it } from "vitest";
import { enrich, search } from "../../enrichment/enrich.ts";
import { startMockOpenai, type MockOpenAI } from "../util/mockOpenai.ts";
import { enrichmentDatabase, REPO } from "../util/enrichment.ts";
import { sqlRows } from "../util/project.ts";

let server: MockOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const messages = [
  { message_key: "k1", text: "The app crashes when I skip back" },
  { message_key: "k2", text: "The app crashes when I skip back" },
  { message_key: "k3", text: "Hit my credit limit again, mail me at jane@example.org" },
  { message_key: "k4", text: "Would love a sleep timer" },
];

describe("embeddings and search", () => {
  it("embeds each distinct text once as a FLOAT[] and finds the nearest messages on the local provider", async () => {
    const file = await enrichmentDatabase(messages);
    const [, embed] = (await enrich({ projectDir: REPO, database: file, provider: { name: "local" }, embeddings: true })).tasks;
    expect(embed).toMatchObject({ task: "embed", messagesPending: 4, messagesDone: 4, texts: 3 });
    expect(
      await sqlRows(
        file,
        "select typeof(embedding) as type, dimensions, count(*) as n from enrichment.message_embeddings group by all",
        "duckform",
      ),
    ).toEqual([{ type: "FLOAT[]", dimensions: 256, n: 4 }]);
    const hits = await search({ projectDir: REPO, database: file, provider: { name: "local" }, query: "credit limit", limit: 2 });
    expect(hits.map((h) => h.message_key)[0]).toBe("k3");
    expect(hits[0]!.similarity).toBeGreaterThan(hits[1]!.similarity);
  });

  it("embeds through an OpenAI-compatible server, redacted, and searches with the same model", async () => {
    server = await startMockOpenai();
    const file = await enrichmentDatabase(messages);
    const provider = { name: "openai" as const, model: "mock-model", embeddingModel: "mock-embed", baseURL: server.url, apiKey: "k" };
    const [, embed] = (await enrich({ projectDir: REPO, database: file, provider, embeddings: true })).tasks;
    expect(embed).toMatchObject({ provider: "openai", model: "mock-embed", messagesDone: 4, requests: 1 });
    const embeddingRequests = server.requests.filter((r) => r.path.endsWith("/embeddings"));
    expect(embeddingRequests).toHaveLength(1);
    expect(embeddingRequests[0]!.body.toString()).not.toContain("jane@example.org");
    const hits = await search({
      projectDir: REPO,
      database: file,
      provider,
      query: "Hit my credit limit again, mail me at jane@example.org",
      limit: 1,
    });
    // The mock's vectors hash the text, so only the identical (redacted) text is a perfect match.
    expect(hits).toEqual([expect.objectContaining({ message_key: "k3" })]);
    expect(hits[0]!.similarity).toBeCloseTo(1, 5);
    expect(server.requests.at(-1)!.body.toString()).not.toContain("jane@example.org");
  });
});
