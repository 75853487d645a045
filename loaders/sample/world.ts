import { createPrng } from "./prng.ts";

/**
 * The fixed world the sample data and the shipped seeds share: companies, people, episodes and
 * message categories. It does not depend on `--seed` (that only varies the activity), so
 * `seeds/*.csv` describe every sample, whatever its seed.
 */

/** Our own company: its people are staff (`is_internal`), not customers. */
export const APP_COMPANY = "Earshot";

export interface Company {
  company: string;
  /** Spellings found in CRM fields, chat names and sign-up forms; the canonical name is one of them. */
  variants: string[];
  slackGroup: string | null;
  telegramGroup: string | null;
  calendarDomain: string;
}

export const companies: Company[] = [
  { company: APP_COMPANY, variants: ["Earshot", "Earshot Inc."], slackGroup: "general", telegramGroup: "Earshot Beta Community", calendarDomain: "earshot.example" },
  { company: "Northwind Media", variants: ["Northwind Media", "Northwind", "northwind media inc."], slackGroup: "ext-northwind", telegramGroup: "Earshot × Northwind", calendarDomain: "northwind.example" },
  { company: "Bluefin Labs", variants: ["Bluefin Labs", "BlueFin", "Bluefin Labs GmbH"], slackGroup: "ext-bluefin", telegramGroup: null, calendarDomain: "bluefin.example" },
  { company: "Kestrel Health", variants: ["Kestrel Health", "Kestrel"], slackGroup: "ext-kestrel", telegramGroup: "Earshot × Kestrel Health", calendarDomain: "kestrel-health.example" },
  { company: "Orbit Logistics", variants: ["Orbit Logistics", "ORBIT", "Orbit Logistics Ltd"], slackGroup: null, telegramGroup: "Orbit ↔ Earshot", calendarDomain: "orbit-logistics.example" },
  { company: "Juniper Learning", variants: ["Juniper Learning", "Juniper", "juniper-learning"], slackGroup: "ext-juniper", telegramGroup: null, calendarDomain: "juniper.example" },
  { company: "Halcyon Bank", variants: ["Halcyon Bank", "Halcyon"], slackGroup: null, telegramGroup: "Halcyon Bank pilot", calendarDomain: "halcyonbank.example" },
  { company: "Tidewater Studios", variants: ["Tidewater Studios", "Tidewater", "TideWater Studio"], slackGroup: "ext-tidewater", telegramGroup: "Tidewater Studios + Earshot", calendarDomain: "tidewater.example" },
  { company: "Larkspur Analytics", variants: ["Larkspur Analytics", "Larkspur"], slackGroup: null, telegramGroup: null, calendarDomain: "larkspur.example" },
];

export interface Person {
  userId: string;
  email: string;
  displayName: string;
  /** As Telegram shows the name; null when the person is not in any Telegram chat. */
  telegramName: string | null;
  slackUserId: string | null;
  /** As the person typed it at sign-up: sometimes a variant, resolved through the company mapping. */
  company: string | null;
  /** The canonical company, for the generator's own bookkeeping. */
  canonicalCompany: string | null;
  plan: "free" | "plus" | "team";
  signupDate: string;
  countryCode: string;
  isInternal: boolean;
  /** Relative activity: a few people do most of the listening. */
  activity: number;
}

const firstNames = [
  "Anna", "Ben", "Chloé", "Dmitri", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kemi", "Lars", "Mei", "Nikhil",
  "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tariq", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe", "Amara", "Bruno",
  "Carmen", "Diego", "Eva", "Felix", "Gaurav", "Hannah", "Igor", "Julia", "Kofi", "Lena", "Marco", "Nora", "Oscar",
  "Priya", "Rafael", "Sofia", "Tomás", "Ulla", "Vera", "William", "Yara", "Zainab",
];
const lastNames = [
  "Berg", "Ito", "Dubois", "Volkov", "Yilmaz", "Haddad", "Larsen", "Tanaka", "Moreau", "Schmidt", "Adeyemi", "Nilsson",
  "Chen", "Rao", "Petrova", "García", "Murphy", "Rossi", "Khan", "Aziz", "Patel", "Novak", "Li", "Ortega", "Demir", "Clarke",
  "Okafor", "Costa", "Vidal", "Ramos", "Lindqvist", "Weber", "Mehta", "Fischer", "Sokolov", "Santos", "Mensah", "Koch",
  "Bianchi", "Hall", "Andersson", "Iyer", "Silva", "Romero", "Ferreira", "Kowalski", "Brandt", "Jones", "Nasser", "Ali",
];
const personalDomains = ["gmail.example", "proton.example", "fastmail.example", "outlook.example"];
const countries = ["US", "GB", "DE", "FR", "IN", "BR", "NL", "SE", "TR", "NG", "JP", "ES"];

/** How many people the world has (staff included). */
export const PEOPLE = 300;

let cachedPeople: Person[] | undefined;

export function people(): Person[] {
  cachedPeople ??= makePeople();
  return cachedPeople;
}

function makePeople(): Person[] {
  const prng = createPrng("duckform-sample-world-v1");
  const used = new Set<string>();
  const slackIds = new Set<string>();
  const out: Person[] = [];
  for (let i = 1; i <= PEOPLE; i++) {
    let first: string;
    let last: string;
    do {
      first = prng.pick(firstNames);
      last = prng.pick(lastNames);
    } while (used.has(`${first} ${last}`));
    used.add(`${first} ${last}`);
    const internal = i <= 6;
    const customer = companies.slice(1);
    const company = internal ? companies[0]! : prng.chance(0.7) ? prng.pick(customer) : null;
    const local = `${ascii(first)}.${ascii(last)}`.toLowerCase();
    const email = company ? `${local}@${company.calendarDomain}` : `${local}${prng.int(1, 99)}@${prng.pick(personalDomains)}`;
    const inSlack = internal || (company?.slackGroup != null && prng.chance(0.85)) || (!company && prng.chance(0.08));
    let slackUserId: string | null = null;
    if (inSlack) {
      do slackUserId = `U0${prng.hex(8).toUpperCase()}`;
      while (slackIds.has(slackUserId));
      slackIds.add(slackUserId);
    }
    const inTelegram = internal || (company?.telegramGroup != null && prng.chance(0.8)) || prng.chance(0.12);
    // Telegram shows what people typed as their name: often the first name only.
    const telegramName = inTelegram ? (prng.chance(0.3) ? first : `${first} ${last}`) : null;
    const typed = company && !internal && prng.chance(0.3) ? prng.pick(company.variants) : company?.company ?? null;
    const signup = new Date(Date.UTC(2023, 5, 1) + prng.int(0, 540) * 86_400_000);
    out.push({
      userId: `user_${String(i).padStart(4, "0")}`,
      email,
      displayName: `${first} ${last}`,
      telegramName,
      slackUserId,
      company: typed,
      canonicalCompany: company?.company ?? null,
      plan: internal ? "team" : company ? prng.weighted(["free", "plus", "team"] as const, [3, 2, 4]) : prng.weighted(["free", "plus", "team"] as const, [6, 3, 0]),
      signupDate: signup.toISOString().slice(0, 10),
      countryCode: prng.pick(countries),
      isInternal: internal,
      activity: internal ? 0.5 : Math.max(0.05, -Math.log(1 - prng.next())),
    });
  }
  return out;
}

function ascii(name: string): string {
  return name.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
}

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
      "Why every app wants your attention", "The quiet rise of local-first software", "What broke the internet this week",
      "Inside a data centre at 3 a.m.", "Open source, closed wallets", "Can we trust the benchmarks?",
      "The password is dead (again)", "Chips, tariffs and you", "How search engines read", "The bug that cost a billion",
      "Small models, big ideas", "A year of AI in review",
    ],
  },
  {
    name: "The Long Commute",
    topic: "society",
    titles: [
      "Cities built for cars", "The four-day week, one year in", "Trains that run on time", "Remote work and the empty office",
      "Who cleans the night bus?", "A bridge too expensive", "Cycling in the rain", "The airport that never opened",
      "Noise and the city", "Moving back home", "Rent, again", "Where the highways end",
    ],
  },
  {
    name: "Data After Dark",
    topic: "data",
    titles: [
      "Deduplication is a love language", "Star schemas for people who hate them", "The seven-day window",
      "Late data and how to live with it", "Sessions, gaps and thirty minutes", "What a ledger is for",
      "Nulls: a field guide", "Testing SQL like you mean it", "Incremental models without tears", "Time zones, briefly",
      "Retention curves that lie", "Counting people is hard",
    ],
  },
  {
    name: "Small Batch",
    topic: "food",
    titles: [
      "Sourdough for the impatient", "A brief history of hot sauce", "The coffee farm co-op", "Fermenting everything",
      "Street food rules", "The last apple orchard", "Kitchen knives, honestly", "Why restaurants fail",
      "Salt, fat, podcasts", "Tea at altitude", "Bakeries at dawn", "The potluck economy",
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
  { category: "bug_report", description: "Something in the app does not work as it should: crashes, errors, playback or sync failures.", keywords: ["bug", "crash", "crashes", "error", "broken", "stuck", "doesn't work", "won't play", "freezes", "glitch"] },
  { category: "feature_request", description: "A user asks for something the app does not do yet.", keywords: ["feature", "would love", "wish", "please add", "could you add", "request", "it would be great", "support for"] },
  { category: "credits_pricing", description: "Credits, limits, plans and prices: hitting the credit limit, what a plan costs, willingness to pay.", keywords: ["credit", "credits", "limit", "quota", "price", "pricing", "plan", "upgrade", "pay", "subscription"] },
  { category: "praise", description: "A user says what they like or what worked well.", keywords: ["love", "great", "awesome", "thanks", "thank you", "amazing", "nice", "perfect", "brilliant"] },
  { category: "question", description: "A how-to question about using the app.", keywords: ["how do i", "how can i", "is there a way", "where is", "can i", "anyone know", "?"] },
  { category: "content", description: "About episodes and shows: recommendations, requests, reactions to an episode.", keywords: ["episode", "show", "listen", "listened", "recommend", "podcast", "season", "host"] },
  { category: "churn_risk", description: "A user signals leaving, cancelling or switching to another app.", keywords: ["cancel", "cancelling", "leaving", "switch to", "unsubscribe", "not worth", "uninstall", "too expensive"] },
  { category: "onboarding", description: "Getting started: invites, sign-up, account set-up, first steps.", keywords: ["invite", "sign up", "signup", "onboarding", "account", "login", "log in", "getting started", "set up"] },
  { category: "other", description: "Anything else: greetings, logistics, small talk.", keywords: [] },
];
