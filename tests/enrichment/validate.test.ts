import { describe, expect, it } from "vitest";
import { validateReply } from "../../enrichment/validate.ts";
import { responseJsonSchema } from "../../enrichment/output.ts";

const categories = ["bug_report", "other"];
const ok = (id: string) => ({ id, category: "other", topics: ["sleep timer"], entities: [{ name: "Spotify", type: "platform" }] });

describe("validating a batch answer", () => {
  it("accepts each valid annotation and says why each other id has none", () => {
    const { valid, invalid } = validateReply(
      { annotations: [ok("m1"), { ...ok("m2"), category: "gossip" }, ok("m9"), { ...ok("m4"), extra: true }] },
      ["m1", "m2", "m3", "m4"],
      categories,
    );
    expect([...valid.keys()]).toEqual(["m1"]);
    expect(Object.fromEntries(invalid)).toEqual({
      m2: expect.stringMatching(/^invalid annotation: category/),
      m3: "missing from the response",
      m4: expect.stringMatching(/^invalid annotation: .*extra/),
    });
  });

  it("fails every id of a malformed or mis-shaped answer", () => {
    expect(Object.fromEntries(validateReply('{"annotations": [{"id": "m1", "cat', ["m1", "m2"], categories).invalid)).toEqual({
      m1: expect.stringMatching(/^malformed JSON/),
      m2: expect.stringMatching(/^malformed JSON/),
    });
    expect(validateReply({ results: [] }, ["m1"], categories).invalid.get("m1")).toMatch(/^response without an annotations array/);
  });

  it("sends a strict JSON schema without the length keywords some servers refuse", () => {
    const schema = JSON.stringify(responseJsonSchema(categories));
    expect(schema).toContain('"additionalProperties":false');
    expect(schema).toContain('"enum":["bug_report","other"]');
    expect(schema).not.toMatch(/maxItems|maxLength|minLength|\$schema/);
  });
});
