import { describe, expect, it } from "vitest";
import type { Lexicon } from "../../../enrichment/lexicon.ts";
import { annotationSchema } from "../../../enrichment/output.ts";
import { createLocalAnnotator } from "../../../enrichment/providers/local.ts";
import { hashEmbedding } from "../../../enrichment/hashEmbedding.ts";

const lexicon: Lexicon = {
  categories: [
    { category: "bug_report", description: "", keywords: ["crash", "crashes", "error", "broken", "doesn't work"] },
    { category: "feature_request", description: "", keywords: ["would love", "please add", "could you add"] },
    { category: "credits_pricing", description: "", keywords: ["credit", "credits", "limit", "price"] },
    { category: "question", description: "", keywords: ["how do i", "?"] },
    { category: "other", description: "", keywords: [] },
  ],
  platforms: [
    { platform: "Spotify", aliases: ["spotify"], domains: ["spotify.com", "open.spotify.com"] },
    { platform: "Signal", aliases: ["signal app"], domains: ["signal.org"] },
  ],
  organizations: new Map([
    ["Northwind", "Northwind Media"],
    ["Northwind Media", "Northwind Media"],
  ]),
  media: ["Signal & Noise"],
  people: [{ name: "Hiro Rossi", aliases: ["Hiro Rossi", "Hiro"] }],
  identities: { names: [], ids: [] },
};
const annotate = createLocalAnnotator(lexicon);

describe("the local provider", () => {
  it("picks the category whose keywords match most specifically, else other", () => {
    expect(annotate("The app crashes on start").category).toBe("bug_report");
    expect(annotate("Could you add chapter markers?").category).toBe("feature_request");
    expect(annotate("It doesn’t work since the update").category).toBe("bug_report");
    expect(annotate("Morning all!").category).toBe("other");
  });

  it("finds identifiers by pattern and names from the lexicon, canonically spelled", () => {
    const { entities } = annotate(
      "Hiro from Northwind shared https://open.spotify.com/show/abc about Signal & Noise; tips to 0x52908400098527886E0F7030069857D2E4169EE7 #podcasts @here @kofi",
    );
    expect(entities).toEqual([
      { name: "Hiro Rossi", type: "person" },
      { name: "Northwind Media", type: "organization" },
      { name: "https://open.spotify.com/show/abc", type: "url" },
      { name: "Signal & Noise", type: "media" },
      { name: "0x52908400098527886E0F7030069857D2E4169EE7", type: "crypto_address" },
      { name: "#podcasts", type: "hashtag" },
      { name: "@kofi", type: "handle" },
      { name: "Spotify", type: "platform" },
    ]);
  });

  it("takes noun phrases as topics, singular, without pronouns, names or vague words", () => {
    expect(annotate("Would love a sleep timer that stops at the end of an episode").topics).toEqual(["sleep timer", "episode"]);
    expect(annotate("Offline downloads are perfect for flights, thank you").topics).toEqual(["offline download", "flight"]);
    expect(annotate("Great, thanks!").topics).toEqual([]);
  });

  it("keeps within the output schema's limits for a message that pastes many or long links", () => {
    const links = Array.from({ length: 60 }, (_, i) => `https://example.com/${i}?ref=${"x".repeat(300)}`).join(" ");
    const result = annotate(`see ${links}`);
    expect(result.entities).toHaveLength(50);
    expect(annotationSchema(lexicon.categories.map((c) => c.category)).safeParse({ id: "m1", ...result }).success).toBe(true);
  });

  it("is deterministic", () => {
    const text = "Hit my credit limit again halfway through the month";
    expect(annotate(text)).toEqual(annotate(text));
    expect(annotate(text)).toEqual({ category: "credits_pricing", topics: ["credit limit"], entities: [] });
  });
});

describe("the hashing-vector embedding", () => {
  it("is unit length and puts texts that share words closer than texts that do not", () => {
    const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    const crash = hashEmbedding("the app crashes on launch");
    expect(cos(crash, crash)).toBeCloseTo(1, 6);
    expect(cos(crash, hashEmbedding("app crashed again"))).toBeGreaterThan(cos(crash, hashEmbedding("lovely weather for a walk")));
  });
});
