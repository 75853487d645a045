import { decodeHTML, decodeHTMLAttribute } from "entities";
import { Parser, Tokenizer } from "htmlparser2";
import { hasClass, type Content, type ScannedMessage, type ScannedPage, type ScannedReaction } from "./scannedPage.ts";

// What an element is to the message it sits in; one element may be several of these.
const MESSAGE = 1;
const BODY = 2;
const FORWARDED = 4;
const REACTIONS = 8;
const REACTION = 16;
const USERPICS = 32;
const IN_EMOJI = 64;
// Per content level (body, forwarded body): level 0 at these bits, level 1 shifted left by one.
const REPLY = 128;
const WRAP = 512;
const MEDIA = 2048;
const IN_REPLY = 8192;
const IN_MEDIA = 32768;

// Which first children of a kind a message has had: only the first of each is read.
const SEEN_BODY = 1;
const SEEN_DATE = 2;
const SEEN_FROM = 4;
const SEEN_FORWARDED = 8;
const SEEN_REACTIONS = 16;
const SEEN_FORWARDED_FROM = 32;
const SEEN_TEXT = 64; // and 128 for the forwarded body
const SEEN_TITLE = 256; // and 512

/** One open message element and what its descendants are to it: `roles[d]` for the open element d levels below it. */
interface Scope {
  message: ScannedMessage;
  depth: number;
  service: boolean;
  roles: number[];
  seen: number;
  reaction: (ScannedReaction & { seen: number }) | null;
}

/**
 * Gathers the plain text of an element as the DOM parser it replaced read it: entities decoded, `<br>` as a
 * newline, a text's newline first in its element and its trailing newline and indentation last in
 * it dropped (the exporter's layout), script, style and comments left out. `name` mode reads a
 * `from_name`: its own text children as written, its `date` child left out, its `<br>` children as nothing.
 */
class Collector {
  text = "";
  skipping = -1;
  constructor(
    readonly depth: number,
    readonly into: Into,
    readonly message: ScannedMessage | null,
    readonly reaction: ScannedReaction | null,
  ) {}

  get name(): boolean {
    return this.into === Into.FromName || this.into === Into.ForwardedFromName;
  }
}

// Where a collector's text goes. (No callbacks: a closure per message element costs more than the rest of its reading.)
const enum Into {
  Title,
  BodyText,
  FromName,
  ForwardedFromName,
  Text0,
  Text1,
  MediaTitle0,
  MediaTitle1,
  Emoji,
  Count,
}

/** Reads a page in one pass. The event order is htmlparser2's, which is what its DOM handler builds a tree from. */
export function scanPage(html: string): ScannedPage {
  const scanner = new Scanner();
  // Entities are decoded here, in the few texts and attributes that are read, rather than by the
  // tokenizer in every one: text between tags is then skipped over a run at a time.
  const parser = new Parser(scanner, {
    decodeEntities: false,
    lowerCaseTags: false,
    lowerCaseAttributeNames: false,
    Tokenizer: SeekingTokenizer,
  });
  scanner.parser = parser;
  parser.end(html);
  return { title: scanner.title, hasHistory: scanner.historyDepth !== NONE, messages: scanner.messages };
}

/**
 * htmlparser2's tokenizer, skipping a run of text or an attribute value to the character that ends
 * it with `indexOf` instead of a loop of `charCodeAt` calls: the same index, found natively. That
 * skipping is most of what the tokenizer does on an export page, whose text and indentation
 * outweigh its tags; it took a third of the parse.
 */
class SeekingTokenizer extends Tokenizer {}
// The method is private in htmlparser2's types, so it is replaced on the prototype rather than overridden.
interface TokenizerState {
  buffer: string;
  index: number;
  offset: number;
}
Object.defineProperty(SeekingTokenizer.prototype, "fastForwardTo", {
  value: function fastForwardTo(this: TokenizerState, c: number): boolean {
    const found = this.buffer.indexOf(String.fromCharCode(c), this.index + 1 - this.offset);
    // Where the loop it replaces stops: on the character, or on the buffer's last one.
    this.index = (found < 0 ? this.buffer.length - 1 : found) + this.offset;
    return found >= 0;
  },
});

const NONE = -2;

class Scanner {
  parser!: Parser;
  title: string | null = null;
  messages: ScannedMessage[] = [];
  historyDepth = NONE;
  private depth = -1;
  // Per open element, by depth: how many child nodes it has so far, and whether it is script or style.
  private children: number[] = [0];
  private opaque: boolean[] = [];
  private classes: string[] = [];
  private text = "";
  private collectors: Collector[] = [];
  private scopes: Scope[] = [];
  private header = NONE;
  private headerFound = false;
  private titleFound = false;
  private historyFound = false;
  private inHistoryClass = 0;
  private inHeaderClass = 0;

  ontext(data: string): void {
    this.text += data;
  }

  onopentag(name: string, attribs: Record<string, string>): void {
    this.endText(false);
    this.children[this.depth + 1]!++;
    const depth = ++this.depth;
    this.children[depth + 1] = 0;
    const isTag = name !== "script" && name !== "style";
    this.opaque[depth] = !isTag;
    const cls = attribute(attribs.class) ?? "";
    this.classes[depth] = cls;
    if (!isTag) return;
    for (const c of this.collectors) {
      if (c.skipping >= 0) continue;
      if (c.name && depth === c.depth + 1) {
        if (hasClass(cls, "date")) c.skipping = depth;
      } else if (name === "br") c.text += "\n";
    }
    if (!this.headerFound || !this.historyFound) this.findHeaderAndHistory(cls, depth);
    if (this.header !== NONE && !this.titleFound && depth > this.header && hasClass(cls, "text") && hasClass(cls, "bold")) {
      this.titleFound = true;
      this.collect(depth, Into.Title, null);
    }
    for (const scope of this.scopes)
      scope.roles[depth - scope.depth] = this.roleIn(scope, scope.roles[depth - 1 - scope.depth]!, name, cls, attribs, depth);
    if (this.historyDepth >= 0 && depth > this.historyDepth && hasClass(cls, "message")) this.openMessage(cls, attribs, depth);
  }

  onclosetag(): void {
    this.endText(true);
    // A page that ends inside a start tag has its name on the parser's stack, never opened: the
    // parser then closes one element more than it opened, as the DOM handler's tree did too.
    if (this.depth < 0) return;
    const depth = this.depth--;
    const collectors = this.collectors;
    for (let i = collectors.length - 1; i >= 0; i--) {
      const c = collectors[i]!;
      if (c.skipping === depth) c.skipping = -1;
      if (c.depth === depth) {
        collectors.splice(i, 1);
        this.deliver(c);
      }
    }
    const scope = this.scopes.at(-1);
    if (scope && scope.depth === depth) {
      scope.message.end = this.parser.endIndex;
      this.scopes.pop();
    }
    if (depth === this.header) this.header = NONE;
    if (depth === this.historyDepth) this.historyDepth = -1;
    if (!this.headerFound || !this.historyFound) {
      const cls = this.classes[depth]!;
      if (!this.opaque[depth] && hasClass(cls, "history")) this.inHistoryClass--;
      if (!this.opaque[depth] && hasClass(cls, "page_header")) this.inHeaderClass--;
    }
  }

  oncomment(): void {
    this.endText(false);
    this.children[this.depth + 1]!++;
  }

  onprocessinginstruction(): void {
    this.oncomment();
  }

  /** A run of text ends at the next other node; it is its element's last child if that node is the element's closing tag. */
  private endText(closing: boolean): void {
    if (this.text === "") return;
    const raw = this.text;
    this.text = "";
    const depth = this.depth;
    const first = this.children[depth + 1]! === 0;
    this.children[depth + 1]!++;
    if (this.collectors.length === 0 || (depth >= 0 && this.opaque[depth])) return;
    const data = raw.includes("&") ? decodeHTML(raw) : raw;
    let trimmed: string | undefined;
    for (const c of this.collectors) {
      if (c.skipping >= 0) continue;
      if (c.name && depth === c.depth) {
        c.text += data;
        continue;
      }
      if (trimmed === undefined) {
        trimmed = first && data.charCodeAt(0) === 10 ? data.slice(1) : data;
        if (closing) trimmed = trimmed.replace(/\n *$/, "");
      }
      c.text += trimmed;
    }
  }

  private collect(depth: number, into: Into, message: ScannedMessage | null, reaction: ScannedReaction | null = null): void {
    this.collectors.push(new Collector(depth, into, message, reaction));
  }

  private deliver({ into, text, message: m, reaction: r }: Collector): void {
    if (into === Into.Title) this.title = text;
    else if (into === Into.BodyText) m!.bodyText = text;
    else if (into === Into.FromName) m!.fromName = text;
    else if (into === Into.ForwardedFromName) m!.forwardedFromName = text;
    else if (into === Into.Text0 || into === Into.Text1) m!.content[into - Into.Text0]!.text = text;
    else if (into === Into.MediaTitle0 || into === Into.MediaTitle1) m!.content[into - Into.MediaTitle0]!.mediaTitle = text;
    else if (into === Into.Emoji) r!.emoji = text;
    else r!.count = text;
  }

  /** The header is the first `page_header` outside any `history`; the history the first `history` outside any `page_header`. */
  private findHeaderAndHistory(cls: string, depth: number): void {
    const isHistory = hasClass(cls, "history");
    const isHeader = hasClass(cls, "page_header");
    if (!this.headerFound && isHeader && this.inHistoryClass === 0) {
      this.headerFound = true;
      this.header = depth;
    }
    if (!this.historyFound && isHistory && this.inHeaderClass === 0) {
      this.historyFound = true;
      this.historyDepth = depth;
    }
    if (isHistory) this.inHistoryClass++;
    if (isHeader) this.inHeaderClass++;
  }

  private openMessage(cls: string, attribs: Record<string, string>, depth: number): void {
    const start = this.parser.startIndex;
    const id = attribute(attribs.id);
    for (const open of this.scopes) open.message.next ??= { start, id };
    const message: ScannedMessage = {
      start,
      end: start,
      id,
      cls,
      direct: depth === this.historyDepth + 1,
      next: null,
      body: false,
      bodyText: "",
      dateTitle: undefined,
      fromName: null,
      forwarded: false,
      forwardedFromName: null,
      content: [newContent(), newContent()],
      reactions: null,
    };
    this.messages.push(message);
    this.scopes.push({ message, depth, service: hasClass(cls, "service"), roles: [MESSAGE], seen: 0, reaction: null });
  }

  /** What a new element is to an open message, given what its parent is: `childWithClass` and `findTag` of the DOM reads, as roles. */
  private roleIn(scope: Scope, parent: number, name: string, cls: string, attribs: Record<string, string>, depth: number): number {
    if (parent === 0) return 0;
    const m = scope.message;
    let role = 0;
    if (parent & MESSAGE && first(scope, SEEN_BODY, hasClass(cls, "body"))) {
      m.body = true;
      role |= BODY;
      if (scope.service) this.collect(depth, Into.BodyText, m);
    }
    if (scope.service) return role;
    if (parent & BODY) {
      if (first(scope, SEEN_DATE, hasClass(cls, "date"))) m.dateTitle = attribute(attribs.title);
      if (first(scope, SEEN_FROM, hasClass(cls, "from_name"))) this.collect(depth, Into.FromName, m);
      if (first(scope, SEEN_FORWARDED, hasClass(cls, "forwarded") && hasClass(cls, "body"))) {
        m.forwarded = true;
        role |= FORWARDED;
      }
      if (first(scope, SEEN_REACTIONS, hasClass(cls, "reactions"))) {
        m.reactions = [];
        role |= REACTIONS;
      }
      role |= this.contentRole(scope, 0, cls, depth);
    }
    if (parent & FORWARDED) {
      if (first(scope, SEEN_FORWARDED_FROM, hasClass(cls, "from_name"))) this.collect(depth, Into.ForwardedFromName, m);
      role |= this.contentRole(scope, 1, cls, depth);
    }
    for (let level = 0; level < 2; level++) {
      const c = m.content[level as 0 | 1];
      if (parent & ((REPLY | IN_REPLY) << level)) {
        role |= IN_REPLY << level;
        if (c.replyHref === null && name === "a") {
          const href = attribute(attribs.href) ?? "";
          if (/go_to_message\d+/.test(href)) c.replyHref = href;
        }
      }
      if (parent & (WRAP << level) && c.mediaCls === null) {
        c.mediaCls = cls;
        role |= MEDIA << level;
      }
      if (parent & ((MEDIA | IN_MEDIA) << level)) {
        role |= IN_MEDIA << level;
        if (first(scope, SEEN_TITLE << level, hasClass(cls, "title"))) this.collect(depth, Into.MediaTitle0 + level, m);
      }
    }
    if (parent & REACTIONS && hasClass(cls, "reaction")) {
      const reaction = { cls, emoji: null, customEmoji: false, count: null, userpics: null, seen: 0 };
      m.reactions!.push(reaction);
      scope.reaction = reaction;
      role |= REACTION;
    }
    const reaction = scope.reaction;
    if (parent & USERPICS && reaction) reaction.userpics!++;
    if (parent & IN_EMOJI && reaction) {
      role |= IN_EMOJI;
      if (name === "a") reaction.customEmoji = true;
    }
    if (parent & REACTION && reaction) {
      if (!(reaction.seen & 1) && hasClass(cls, "emoji")) {
        reaction.seen |= 1;
        role |= IN_EMOJI;
        this.collect(depth, Into.Emoji, m, reaction);
      }
      if (!(reaction.seen & 2) && hasClass(cls, "count")) {
        reaction.seen |= 2;
        this.collect(depth, Into.Count, m, reaction);
      }
      if (!(reaction.seen & 4) && hasClass(cls, "userpics")) {
        reaction.seen |= 4;
        reaction.userpics = 0;
        role |= USERPICS;
      }
    }
    return role;
  }

  private contentRole(scope: Scope, level: 0 | 1, cls: string, depth: number): number {
    const c = scope.message.content[level];
    let role = 0;
    if (!c.reply && hasClass(cls, "reply_to")) {
      c.reply = true;
      role |= REPLY << level;
    }
    if (!(scope.seen & (SEEN_TEXT << level)) && hasClass(cls, "text")) {
      scope.seen |= SEEN_TEXT << level;
      this.collect(depth, Into.Text0 + level, scope.message);
    }
    if (!c.mediaWrap && hasClass(cls, "media_wrap")) {
      c.mediaWrap = true;
      role |= WRAP << level;
    }
    return role;
  }
}

function newContent(): Content {
  return { reply: false, replyHref: null, text: null, mediaWrap: false, mediaCls: null, mediaTitle: null };
}

/** Whether this is the first child of its kind the message has had, which is the one read. */
function first(scope: Scope, bit: number, test: boolean): boolean {
  if (!test || scope.seen & bit) return false;
  scope.seen |= bit;
  return true;
}

function attribute(raw: string | undefined): string | undefined {
  return raw !== undefined && raw.includes("&") ? decodeHTMLAttribute(raw) : raw;
}
