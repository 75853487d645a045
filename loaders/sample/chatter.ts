import { createHash } from "node:crypto";
import type { Prng } from "./prng.ts";
import { episodes } from "./catalog.ts";
import type { Person } from "./world.ts";

/**
 * What people in the sample chats say, by message category, so that the local classifier in
 * `seeds/message_categories.csv` has something to find. `{episode}` and `{show}` are filled in.
 */
const lines: Record<string, string[]> = {
  bug_report: [
    "The app crashes when I skip back 30s on {episode}",
    "Playback is stuck at 0:00 for {episode}, anyone else?",
    "Downloads fail with an error since the last update",
    "Sync between phone and web is broken again: my position on {episode} is lost",
    "The player freezes when the screen locks, doesn't work on Android 14",
    "Small glitch: the progress bar jumps back after a pause",
  ],
  feature_request: [
    "Would love a sleep timer that stops at the end of an episode",
    "Could you add chapter markers for {show}?",
    "Feature request: playback speed per show",
    "It would be great to have transcripts, for {episode} especially",
    "Please add a way to share a clip, not just the whole episode",
    "Support for CarPlay would make my commute",
  ],
  credits_pricing: [
    "Hit my credit limit again halfway through the month",
    "How many credits does a premium episode cost on the plus plan?",
    "I'd pay for more credits if the team plan were cheaper",
    "Ran out of credits trying to play {episode}, is there a top-up?",
    "What's the price difference between plus and team?",
    "We're thinking about upgrading the whole team, what would that cost?",
  ],
  praise: [
    "Love the new player, thanks!",
    "{episode} was brilliant, great work",
    "Offline downloads are perfect for flights, thank you",
    "The recommendations are amazing lately",
    "Awesome update, the app feels much faster",
  ],
  question: [
    "How do I move my queue to a new phone?",
    "Is there a way to hide episodes I've finished?",
    "Where is the download quality setting?",
    "Can I listen on two devices at once?",
    "Anyone know if {show} has a back catalogue in the app?",
  ],
  content: [
    "Just listened to {episode}, the second half is the best part",
    "Recommend {show} to anyone who commutes",
    "When is the next season of {show}?",
    "The host of {show} should do an episode on sleep",
    "Which episode of {show} should I start with?",
  ],
  churn_risk: [
    "Honestly thinking about switching to another app, the credits run out too fast",
    "We may cancel the team plan next quarter, not worth it for us yet",
    "If sync stays broken I'll uninstall",
    "Too expensive for what we use, leaving at the end of the month",
  ],
  onboarding: [
    "Just got the invite, how do I set up my account?",
    "Can't log in after the sign up email, the link expired",
    "Added three colleagues to the team account, getting started now",
    "Onboarding was smooth, the first episode played right away",
  ],
  other: [
    "Morning all!",
    "Back from holidays, catching up",
    "Sounds good",
    "Let's pick this up on Thursday's call",
    "👍",
    "Thanks, that makes sense",
    "Happy Friday!",
  ],
};

const weights: Record<string, number> = {
  bug_report: 4,
  feature_request: 4,
  credits_pricing: 3,
  praise: 3,
  question: 4,
  content: 3,
  churn_risk: 1,
  onboarding: 2,
  other: 6,
};

export const CHATTER_CATEGORIES = Object.keys(lines);

/**
 * Behaviours planted in the sample for the insight tests: a group of people who keep asking for
 * one feature (transcripts), and a group who keep saying they will leave. Membership is a hash
 * of the person's id, and a member's message is rewritten after the generator's draws, so the
 * sample's every other number (messages, authors, times, events) is what it was.
 */
export type PlantedGroup = "wants_transcripts" | "leaving";

const planted: Record<PlantedGroup, { category: string; lines: string[]; replaces: Set<string> }> = {
  wants_transcripts: {
    category: "feature_request",
    lines: [
      "Would love transcripts for {episode}",
      "Please add transcripts, I'd read along on the train",
      "Could you add transcripts? Still missing them",
      "Feature request: transcripts for {show}",
    ],
    replaces: new Set(["feature_request", "other", "content", "question", "praise"]),
  },
  leaving: {
    category: "churn_risk",
    lines: [
      "Honestly thinking about switching to another app",
      "Not worth it for us anymore, we may cancel the plan",
      "Probably leaving at the end of the month, too expensive for what we use",
    ],
    replaces: new Set(["other", "content", "question", "praise"]),
  },
};

export function plantedGroup(person: Person | null | undefined): PlantedGroup | null {
  if (!person || person.isInternal) return null;
  const bucket = createHash("sha256").update(`planted:${person.userId}`).digest()[0]!;
  return bucket < 14 ? "wants_transcripts" : bucket < 28 ? "leaving" : null;
}

/** A message text and the category it was written for; `author`'s planted behaviour, if any, rewrites it. */
export function chatter(prng: Prng, author?: Person | null): { category: string; text: string } {
  const category = prng.weighted(
    CHATTER_CATEGORIES,
    CHATTER_CATEGORIES.map((c) => weights[c]!),
  );
  const episode = prng.pick(episodes());
  const text = prng.pick(lines[category]!).replace("{episode}", `"${episode.title}"`).replace("{show}", episode.showName);
  const group = plantedGroup(author);
  if (!group || !planted[group].replaces.has(category)) return { category, text };
  const { lines: variants } = planted[group];
  const line = variants[createHash("sha256").update(text).digest()[0]! % variants.length]!;
  return { category: planted[group].category, text: line.replace("{episode}", `"${episode.title}"`).replace("{show}", episode.showName) };
}
