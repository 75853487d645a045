import { createHash } from "node:crypto";
import { createPrng } from "./prng.ts";

/**
 * The fixed world the sample data and the shipped seeds share: companies and people (episodes and
 * categories are in `catalog.ts`). It does not depend on `--seed` (that only varies the activity), so
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
  {
    company: APP_COMPANY,
    variants: ["Earshot", "Earshot Inc."],
    slackGroup: "general",
    telegramGroup: "Earshot Beta Community",
    calendarDomain: "earshot.example",
  },
  {
    company: "Northwind Media",
    variants: ["Northwind Media", "Northwind", "northwind media inc."],
    slackGroup: "ext-northwind",
    telegramGroup: "Earshot × Northwind",
    calendarDomain: "northwind.example",
  },
  {
    company: "Bluefin Labs",
    variants: ["Bluefin Labs", "BlueFin", "Bluefin Labs GmbH"],
    slackGroup: "ext-bluefin",
    telegramGroup: null,
    calendarDomain: "bluefin.example",
  },
  {
    company: "Kestrel Health",
    variants: ["Kestrel Health", "Kestrel"],
    slackGroup: "ext-kestrel",
    telegramGroup: "Earshot × Kestrel Health",
    calendarDomain: "kestrel-health.example",
  },
  {
    company: "Orbit Logistics",
    variants: ["Orbit Logistics", "ORBIT", "Orbit Logistics Ltd"],
    slackGroup: null,
    telegramGroup: "Orbit ↔ Earshot",
    calendarDomain: "orbit-logistics.example",
  },
  {
    company: "Juniper Learning",
    variants: ["Juniper Learning", "Juniper", "juniper-learning"],
    slackGroup: "ext-juniper",
    telegramGroup: null,
    calendarDomain: "juniper.example",
  },
  {
    company: "Halcyon Bank",
    variants: ["Halcyon Bank", "Halcyon"],
    slackGroup: null,
    telegramGroup: "Halcyon Bank pilot",
    calendarDomain: "halcyonbank.example",
  },
  {
    company: "Tidewater Studios",
    variants: ["Tidewater Studios", "Tidewater", "TideWater Studio"],
    slackGroup: "ext-tidewater",
    telegramGroup: "Tidewater Studios + Earshot",
    calendarDomain: "tidewater.example",
  },
  {
    company: "Larkspur Analytics",
    variants: ["Larkspur Analytics", "Larkspur"],
    slackGroup: null,
    telegramGroup: null,
    calendarDomain: "larkspur.example",
  },
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
  /** Agreed to per-user LLM analysis (`duckform analyze users`); without it a person counts only in aggregates. */
  analysisConsent: boolean;
  /** Relative activity: a few people do most of the listening. */
  activity: number;
}

const firstNames = [
  "Anna",
  "Ben",
  "Chloé",
  "Dmitri",
  "Elif",
  "Farid",
  "Greta",
  "Hiro",
  "Ines",
  "Jonas",
  "Kemi",
  "Lars",
  "Mei",
  "Nikhil",
  "Olga",
  "Pablo",
  "Quinn",
  "Rosa",
  "Sami",
  "Tariq",
  "Uma",
  "Viktor",
  "Wen",
  "Ximena",
  "Yusuf",
  "Zoe",
  "Amara",
  "Bruno",
  "Carmen",
  "Diego",
  "Eva",
  "Felix",
  "Gaurav",
  "Hannah",
  "Igor",
  "Julia",
  "Kofi",
  "Lena",
  "Marco",
  "Nora",
  "Oscar",
  "Priya",
  "Rafael",
  "Sofia",
  "Tomás",
  "Ulla",
  "Vera",
  "William",
  "Yara",
  "Zainab",
];
const lastNames = [
  "Berg",
  "Ito",
  "Dubois",
  "Volkov",
  "Yilmaz",
  "Haddad",
  "Larsen",
  "Tanaka",
  "Moreau",
  "Schmidt",
  "Adeyemi",
  "Nilsson",
  "Chen",
  "Rao",
  "Petrova",
  "García",
  "Murphy",
  "Rossi",
  "Khan",
  "Aziz",
  "Patel",
  "Novak",
  "Li",
  "Ortega",
  "Demir",
  "Clarke",
  "Okafor",
  "Costa",
  "Vidal",
  "Ramos",
  "Lindqvist",
  "Weber",
  "Mehta",
  "Fischer",
  "Sokolov",
  "Santos",
  "Mensah",
  "Koch",
  "Bianchi",
  "Hall",
  "Andersson",
  "Iyer",
  "Silva",
  "Romero",
  "Ferreira",
  "Kowalski",
  "Brandt",
  "Jones",
  "Nasser",
  "Ali",
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
    const typed = company && !internal && prng.chance(0.3) ? prng.pick(company.variants) : (company?.company ?? null);
    const signup = new Date(Date.UTC(2023, 5, 1) + prng.int(0, 540) * 86_400_000);
    out.push({
      userId: `user_${String(i).padStart(4, "0")}`,
      email,
      displayName: `${first} ${last}`,
      telegramName,
      slackUserId,
      company: typed,
      canonicalCompany: company?.company ?? null,
      plan: internal
        ? "team"
        : company
          ? prng.weighted(["free", "plus", "team"] as const, [3, 2, 4])
          : prng.weighted(["free", "plus", "team"] as const, [6, 3, 0]),
      signupDate: signup.toISOString().slice(0, 10),
      countryCode: prng.pick(countries),
      isInternal: internal,
      analysisConsent: consents(`user_${String(i).padStart(4, "0")}`),
      activity: internal ? 0.5 : Math.max(0.05, -Math.log(1 - prng.next())),
    });
  }
  return out;
}

function ascii(name: string): string {
  return name.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
}

/**
 * About one person in eight declines analysis. Drawn from a hash of the id, not from the world's
 * generator, so adding the column left every other value of the sample as it was.
 */
function consents(userId: string): boolean {
  return createHash("sha256").update(`consent:${userId}`).digest()[0]! >= 32;
}
