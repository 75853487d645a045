import { describe, expect, it } from "vitest";
import { createRedactor, restorePlaceholders } from "../../enrichment/redact.ts";

const redact = createRedactor({
  names: ["Hiro Rossi", "Hiro", "Lars Ramos", "Sam Long"],
  ids: ["user_0001", "U0C87D3E3D", "slack:U0986FD339"],
});

describe("redaction before text leaves the process", () => {
  it("replaces emails, phone numbers, handles, Slack mentions, user ids and known names by numbered placeholders", () => {
    const { text, placeholders } = redact(
      "Hiro Rossi (hiro@earshot.example) said: call +44 20 7946 0958 or 0049-30-1234567; cc @lars_r, <@U0C87D3E3D|hiro>, user_0001 and hiro again",
    );
    expect(text).toBe(
      "[PERSON_1] ([EMAIL_1]) said: call [PHONE_1] or [PHONE_2]; cc [HANDLE_1], [USER_ID_1], [USER_ID_2] and [PERSON_2] again",
    );
    expect(placeholders.get("[EMAIL_1]")).toBe("hiro@earshot.example");
    expect(placeholders.get("[PERSON_1]")).toBe("Hiro Rossi");
    expect(placeholders.get("[PERSON_2]")).toBe("hiro");
    expect(restorePlaceholders("ask [PERSON_1] at [EMAIL_1] or [PHONE_9]", placeholders)).toBe(
      "ask Hiro Rossi at hiro@earshot.example or [PHONE_9]",
    );
  });

  it("keeps dates, times, short numbers and words that merely resemble a surname", () => {
    const { text } = redact("On 2024-01-05 at 10:30 I paid 1500 credits for 3 episodes; a long wait, Mr Long");
    expect(text).toBe("On 2024-01-05 at 10:30 I paid 1500 credits for 3 episodes; a long wait, Mr [PERSON_1]");
  });

  it("catches a surname on its own when it is capitalized", () => {
    expect(redact("Rossi and Ramos agree").text).toBe("[PERSON_1] and [PERSON_2] agree");
  });
});
