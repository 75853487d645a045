import { createPrng } from "./prng.ts";

/**
 * The fixed catalog of the sample world: the podcast episodes users play and the message
 * categories enrichment assigns. Like `world.ts`, it does not depend on `--seed`.
 */

export interface Episode {
  episodeId: string;
  showName: string;
  episodeNumber: number;
  title: string;
  publishedDate: string;
  durationSeconds: number;
  topic: string;
  isPremium: boolean;
  creditsCost: number;
}

const shows: { name: string; topic: string; titles: string[] }[] = [
  {
    name: "Signal & Noise",
    topic: "technology",
    titles: [
      "Why every app wants your attention",
      "The quiet rise of local-first software",
      "What broke the internet this week",
      "Inside a data centre at 3 a.m.",
      "Open source, closed wallets",
      "Can we trust the benchmarks?",
      "The password is dead (again)",
      "Chips, tariffs and you",
      "How search engines read",
      "The bug that cost a billion",
      "Small models, big ideas",
      "A year of AI in review",
    ],
  },
  {
    name: "The Long Commute",
    topic: "society",
    titles: [
      "Cities built for cars",
      "The four-day week, one year in",
      "Trains that run on time",
      "Remote work and the empty office",
      "Who cleans the night bus?",
      "A bridge too expensive",
      "Cycling in the rain",
      "The airport that never opened",
      "Noise and the city",
      "Moving back home",
      "Rent, again",
      "Where the highways end",
    ],
  },
  {
    name: "Data After Dark",
    topic: "data",
    titles: [
      "Deduplication is a love language",
      "Star schemas for people who hate them",
      "The seven-day window",
      "Late data and how to live with it",
      "Sessions, gaps and thirty minutes",
      "What a ledger is for",
      "Nulls: a field guide",
      "Testing SQL like you mean it",
      "Incremental models without tears",
      "Time zones, briefly",
      "Retention curves that lie",
      "Counting people is hard",
    ],
  },
  {
    name: "Small Batch",
    topic: "food",
    titles: [
      "Sourdough for the impatient",
      "A brief history of hot sauce",
      "The coffee farm co-op",
      "Fermenting everything",
      "Street food rules",
      "The last apple orchard",
      "Kitchen knives, honestly",
      "Why restaurants fail",
      "Salt, fat, podcasts",
      "Tea at altitude",
      "Bakeries at dawn",
      "The potluck economy",
    ],
  },
];

let cachedEpisodes: Episode[] | undefined;

export function episodes(): Episode[] {
  cachedEpisodes ??= makeEpisodes();
  return cachedEpisodes;
}

function makeEpisodes(): Episode[] {
  const prng = createPrng("duckform-sample-episodes-v1");
  const out: Episode[] = [];
  let n = 0;
  for (const show of shows) {
    // Roughly fortnightly from mid-October 2023, so some episodes are new during 2024.
    let day = Date.UTC(2023, 9, 10) + prng.int(0, 10) * 86_400_000;
    show.titles.forEach((title, i) => {
      n++;
      const premium = prng.chance(0.25);
      out.push({
        episodeId: `ep_${String(n).padStart(4, "0")}`,
        showName: show.name,
        episodeNumber: i + 1,
        title,
        publishedDate: new Date(day).toISOString().slice(0, 10),
        durationSeconds: prng.int(15, 75) * 60 + prng.int(0, 59),
        topic: show.topic,
        isPremium: premium,
        creditsCost: premium ? prng.int(1, 3) : 0,
      });
      day += prng.int(21, 35) * 86_400_000;
    });
  }
  return out;
}

export interface Category {
  category: string;
  description: string;
  keywords: string[];
}

/** The predefined message categories, with keywords for a local (non-LLM) classifier. */
export const categories: Category[] = [
  {
    category: "bug_report",
    description: "Something in the app does not work as it should: crashes, errors, playback or sync failures.",
    keywords: ["bug", "crash", "crashes", "error", "broken", "stuck", "doesn't work", "won't play", "freezes", "glitch"],
  },
  {
    category: "feature_request",
    description: "A user asks for something the app does not do yet.",
    keywords: ["feature", "would love", "wish", "please add", "could you add", "request", "it would be great", "support for"],
  },
  {
    category: "credits_pricing",
    description: "Credits, limits, plans and prices: hitting the credit limit, what a plan costs, willingness to pay.",
    keywords: ["credit", "credits", "limit", "quota", "price", "pricing", "plan", "upgrade", "pay", "subscription"],
  },
  {
    category: "praise",
    description: "A user says what they like or what worked well.",
    keywords: ["love", "great", "awesome", "thanks", "thank you", "amazing", "nice", "perfect", "brilliant"],
  },
  {
    category: "question",
    description: "A how-to question about using the app.",
    keywords: ["how do i", "how can i", "is there a way", "where is", "can i", "anyone know", "?"],
  },
  {
    category: "content",
    description: "About episodes and shows: recommendations, requests, reactions to an episode.",
    keywords: ["episode", "show", "listen", "listened", "recommend", "podcast", "season", "host"],
  },
  {
    category: "churn_risk",
    description: "A user signals leaving, cancelling or switching to another app.",
    keywords: ["cancel", "cancelling", "leaving", "switch to", "unsubscribe", "not worth", "uninstall", "too expensive"],
  },
  {
    category: "onboarding",
    description: "Getting started: invites, sign-up, account set-up, first steps.",
    keywords: ["invite", "sign up", "signup", "onboarding", "account", "login", "log in", "getting started", "set up"],
  },
  { category: "other", description: "Anything else: greetings, logistics, small talk.", keywords: [] },
];
