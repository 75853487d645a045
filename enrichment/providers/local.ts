import nlp from "compromise";
import { hashEmbedding, HASH_DIMENSIONS } from "../hashEmbedding.ts";
import type { Lexicon } from "../lexicon.ts";
import { MAX_ENTITIES, type Annotation, type Entity } from "../output.ts";
import { distinctEntities, overlaps, ruleEntities, type Span } from "../ruleEntities.ts";
import type { AnnotateReply, BatchItem, EmbedReply, Provider } from "./provider.ts";

/** Bump with any change to the rules below: it is part of the model name, so of every key. */
const RULES_VERSION = "1";
const MAX_TOPICS = 3;

/**
 * The offline provider: deterministic, no network, no download. Categories from the seed's
 * keyword lists; entities from patterns (URLs, emails, handles, hashtags, crypto addresses…),
 * from the lexicon (known platforms, companies, shows, people) and compromise's bundled model
 * (other people and places); topics are compromise's noun phrases, cleaned and singularized.
 */
export function createLocalProvider(lexicon: Lexicon): Provider {
  const annotateText = createLocalAnnotator(lexicon);
  return {
    name: "local",
    model: `local-rules-v${RULES_VERSION}+compromise-${nlp.version}`,
    embeddingModel: `local-hash-${HASH_DIMENSIONS}-v1`,
    remote: false,
    batchSize: 500,
    async annotate(items: BatchItem[]): Promise<AnnotateReply> {
      return {
        body: { annotations: items.map((item) => ({ ...annotateText(item.text), id: item.id })) },
        usage: { inputTokens: 0, outputTokens: 0 },
      };
    },
    async embed(texts: string[]): Promise<EmbedReply> {
      return { vectors: texts.map((t) => hashEmbedding(t)), usage: { inputTokens: 0, outputTokens: 0 } };
    },
    estimate: () => ({ inputTokens: 0, outputTokens: 0 }),
  };
}

/** The local rules as one function of a text. */
export function createLocalAnnotator(lexicon: Lexicon): (text: string) => Omit<Annotation, "id"> {
  const categorize = createCategorizer(lexicon);
  const dictionary = createDictionary(lexicon);
  const domains = new Map<string, string>();
  for (const p of lexicon.platforms) for (const d of p.domains) domains.set(d.toLowerCase(), p.platform);

  return (raw: string) => {
    const text = raw.replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"');
    const spans: Span[] = ruleEntities(text);
    for (const s of dictionary(text)) if (!overlaps(spans, s.start, s.end)) spans.push(s);
    const entities: Entity[] = spans.sort((a, b) => a.start - b.start).map(({ name, type }) => ({ name, type }));
    for (const s of spans) {
      if (s.type !== "url") continue;
      const platform = platformOfUrl(s.name, domains);
      if (platform) entities.push({ name: platform, type: "platform" });
    }
    const terms = (nlp(text).json({ offset: true }) as { terms: CompromiseTerm[] }[]).flatMap((sentence) => sentence.terms);
    const named: Span[] = [];
    for (const run of taggedRuns(terms, "Person", "person").concat(taggedRuns(terms, "Place", "place"))) {
      if (overlaps(spans, run.start, run.end)) continue;
      entities.push({ name: run.name, type: run.type });
      named.push(run);
    }
    // A person's or a place's name is an entity, not a topic.
    return {
      category: categorize(text),
      topics: topicsOf(terms, [...spans, ...named]),
      // A pasted list of links is still one message: the first ones are kept, within the schema's limit.
      entities: distinctEntities(entities)
        .filter((e) => e.name.length <= 2048)
        .slice(0, MAX_ENTITIES),
    };
  };
}

interface CompromiseTerm {
  text: string;
  normal: string;
  tags: string[];
  /** compromise's shallow parse: "Noun", "Verb", "Adjective" or "Pivot". */
  chunk?: string;
  post: string;
  offset: { start: number; length: number };
}

/** Consecutive terms carrying `tag` ("Maria Lopez"), as spans of the original text. */
function taggedRuns(terms: CompromiseTerm[], tag: string, type: "person" | "place"): Span[] {
  const runs: Span[] = [];
  let current: CompromiseTerm[] = [];
  const flush = () => {
    if (current.length > 0) {
      const start = current[0]!.offset.start;
      const last = current.at(-1)!;
      const name = current
        .map((t) => t.text)
        .join(" ")
        .replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
      if (name) runs.push({ name, type, start, end: last.offset.start + last.offset.length });
    }
    current = [];
  };
  for (const term of terms) {
    if (term.tags.includes(tag)) current.push(term);
    else flush();
    if (/[,;:!?.]/.test(term.post)) flush();
  }
  flush();
  return runs;
}

function createCategorizer(lexicon: Lexicon): (text: string) => string {
  const rules = lexicon.categories.map((c, order) => ({
    category: c.category,
    order,
    keywords: c.keywords.map((k) => {
      const keyword = k.toLowerCase().replace(/[\u2018\u2019]/g, "'");
      // A keyword with letters matches whole words; one without ("?") matches anywhere.
      const test = /[\p{L}\p{N}]/u.test(keyword)
        ? (
            (re: RegExp) => (t: string) =>
              re.test(t)
          )(new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(keyword)}(?![\\p{L}\\p{N}])`, "u"))
        : (t: string) => t.includes(keyword);
      // Longer phrases are more specific: "could you add" outweighs "add".
      return { test, weight: keyword.split(/\s+/).length };
    }),
  }));
  const fallback = lexicon.categories.find((c) => c.category === "other")?.category ?? lexicon.categories.at(-1)!.category;
  return (text: string) => {
    const lower = text.toLowerCase();
    let best = { category: fallback, score: 0, order: Infinity };
    for (const rule of rules) {
      let score = 0;
      for (const k of rule.keywords) if (k.test(lower)) score += k.weight;
      if (score > best.score || (score === best.score && score > 0 && rule.order < best.order))
        best = { category: rule.category, score, order: rule.order };
    }
    return best.category;
  };
}

/** Finds the lexicon's names in a text: one scan with one alternation, longest names first. */
function createDictionary(lexicon: Lexicon): (text: string) => Span[] {
  const entries = new Map<string, Entity>();
  const add = (phrase: string, entity: Entity) => {
    const key = phrase.trim().toLowerCase();
    if (key.length >= 2 && !entries.has(key)) entries.set(key, entity);
  };
  for (const m of lexicon.media) add(m, { name: m, type: "media" });
  for (const [spelling, company] of lexicon.organizations) add(spelling, { name: company, type: "organization" });
  for (const p of lexicon.platforms) for (const alias of [p.platform, ...p.aliases]) add(alias, { name: p.platform, type: "platform" });
  for (const person of lexicon.people) for (const alias of person.aliases) add(alias, { name: person.name, type: "person" });
  if (entries.size === 0) return () => [];
  const phrases = [...entries.keys()].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}_@#])(?:${phrases.map(escapeRegExp).join("|")})(?![\\p{L}\\p{N}_])`, "giu");
  return (text: string) =>
    [...text.matchAll(pattern)].map((m) => ({ ...entries.get(m[0].toLowerCase())!, start: m.index, end: m.index + m[0].length }));
}

function platformOfUrl(url: string, domains: Map<string, string>): string | undefined {
  let host: string;
  try {
    host = new URL(/^https?:\/\//i.test(url) ? url : `https://${url}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  for (let h = host; h.includes("."); h = h.slice(h.indexOf(".") + 1)) {
    const platform = domains.get(h);
    if (platform) return platform;
  }
  return undefined;
}

const DROP_TAGS = new Set([
  "Determiner",
  "Pronoun",
  "Possessive",
  "There",
  "QuestionWord",
  "Conjunction",
  "Preposition",
  "Value",
  "Cardinal",
  "Ordinal",
  "Date",
  "Url",
  "AtMention",
  "HashTag",
  "Emoji",
  "Emoticon",
]);
const GENERIC = new Set(
  "app back top side kind sort stuff sense sure not where later great good thing things way time times anyone someone everyone anything something everything nothing lot bit guy guys people today tomorrow yesterday morning evening night day days week weeks month months year years all question questions issue issues problem problems yes no ok okay hi hello hey thanks thank one ones part end start".split(
    " ",
  ),
);
const NOT_NOUN_TAGS = new Set(["Adjective", "Adverb", "Negative", "Verb", "Expression", "QuestionWord"]);
const WEAK_ADJECTIVES = new Set(
  "many much whole last next first other another new same few more less such own other several various".split(" "),
);

/**
 * Noun phrases as topics: runs of terms compromise chunks as nouns, broken at punctuation and
 * conjunctions, without determiners, pronouns, numbers and vague words; the last word singular.
 */
function topicsOf(terms: CompromiseTerm[], claimed: Span[]): string[] {
  const topics: string[] = [];
  let words: { word: string; plural: boolean; proper: boolean; noun: boolean }[] = [];
  const flush = () => {
    while (words.length > 0 && (WEAK_ADJECTIVES.has(words[0]!.word) || GENERIC.has(words[0]!.word))) words.shift();
    // A topic ends in a noun: "great" or "sure" alone is not one.
    while (words.length > 0 && (!words.at(-1)!.noun || GENERIC.has(words.at(-1)!.word))) words.pop();
    if (words.length > 0) {
      const kept = words.slice(-3);
      const last = kept.at(-1)!;
      if (last.plural && !last.proper) last.word = singular(last.word);
      const topic = kept.map((w) => w.word).join(" ");
      if (topic.length >= 3 && !GENERIC.has(topic) && /\p{L}/u.test(topic) && !topics.includes(topic)) topics.push(topic);
    }
    words = [];
  };
  for (const term of terms) {
    const word = term.normal.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
    const start = term.offset.start;
    const usable =
      term.chunk === "Noun" &&
      word &&
      !/^\d/.test(word) &&
      !term.tags.some((t) => DROP_TAGS.has(t)) &&
      !overlaps(claimed, start, start + term.offset.length);
    if (!usable) {
      flush();
      continue;
    }
    const noun = term.tags.includes("Noun") && !term.tags.some((t) => NOT_NOUN_TAGS.has(t));
    words.push({ word, plural: term.tags.includes("Plural"), proper: term.tags.includes("ProperNoun"), noun });
    if (/[,;:!?.()"]/.test(term.post)) flush();
  }
  flush();
  return topics.slice(0, MAX_TOPICS);
}

/** English plural → singular by suffix; names and uncountables are not passed here. */
function singular(word: string): string {
  if (word.length <= 3 || /(?:ss|us|is|news|series|species)$/.test(word)) return word;
  if (/[^aeiou]ies$/.test(word)) return word.slice(0, -3) + "y";
  if (/(?:ch|sh|x|z|ss)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith("s")) return word.slice(0, -1);
  return word;
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
