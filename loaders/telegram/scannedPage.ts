/** What one page file's markup says, read in one pass over htmlparser2's events without building a DOM. */
export interface ScannedPage {
  /** The text of the header's `div.text.bold`, as written (not trimmed); null if the page has none. */
  title: string | null;
  hasHistory: boolean;
  /** Every element of class `message` inside `div.history`, nested ones included, in document order. */
  messages: ScannedMessage[];
}

export interface ScannedMessage {
  /** Index of the element's `<` and of the last character of its closing tag (or where the page ends). */
  start: number;
  end: number;
  id: string | undefined;
  cls: string;
  /** A child of div.history, not nested in another element. */
  direct: boolean;
  /** The first message element that begins before this one is closed. */
  next: { start: number; id: string | undefined } | null;
  /** The message's `body` child (the first) and, for a service message, its text. */
  body: boolean;
  bodyText: string;
  /** The `title` of the body's `date` child; undefined without one. */
  dateTitle: string | undefined;
  /** The text of the body's `from_name`, and of a forward's nested one, its `date` left out; null without one. */
  fromName: string | null;
  forwarded: boolean;
  forwardedFromName: string | null;
  /** What the body holds, and what its `forwarded body` holds (a forward's content). */
  content: [Content, Content];
  reactions: ScannedReaction[] | null;
}

export interface Content {
  /** Whether there is a `reply_to`, and the href of the first `go_to_message` link in it. */
  reply: boolean;
  replyHref: string | null;
  text: string | null;
  /** Whether there is a `media_wrap`; the class of its first element, and the text of that element's first `title`. */
  mediaWrap: boolean;
  mediaCls: string | null;
  mediaTitle: string | null;
}

export interface ScannedReaction {
  cls: string;
  emoji: string | null;
  customEmoji: boolean;
  count: string | null;
  /** How many elements the `userpics` child holds; null without one. */
  userpics: number | null;
}

/** Whether a class attribute holds `cls` as a whole token. */
export function hasClass(value: string, cls: string): boolean {
  // A whole-token search without building strings: this runs for every element of every message.
  for (let at = value.indexOf(cls); at >= 0; at = value.indexOf(cls, at + 1)) {
    const end = at + cls.length;
    if ((at === 0 || value.charCodeAt(at - 1) === 32) && (end === value.length || value.charCodeAt(end) === 32)) return true;
  }
  return false;
}
