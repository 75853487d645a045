import type { AnyNode, Element } from "domhandler";

/** Small reads of the parsed export markup that the page parser does for every message. */

/**
 * The plain text of an element: entities decoded by the parser, `<br>` as a newline.
 * The exporter escapes every newline in a text as `<br>`, so a raw newline in the markup is
 * layout: one opens each block element's content and one plus indentation closes it.
 */
export function textOf(el: Element): string {
  let out = "";
  const children = el.children;
  for (let i = 0; i < children.length; i++) {
    const child = children[i]!;
    if (child.type === "text") {
      let data = child.data;
      if (i === 0 && data.charCodeAt(0) === 10) data = data.slice(1);
      if (i === children.length - 1) data = data.replace(/\n *$/, "");
      out += data;
    } else if (child.type === "tag") {
      out += child.name === "br" ? "\n" : textOf(child);
    }
  }
  return out;
}

export function hasClass(el: Element, cls: string): boolean {
  const value = el.attribs.class;
  if (!value) return false;
  // A whole-token search without building strings: this runs for every child of every message.
  for (let at = value.indexOf(cls); at >= 0; at = value.indexOf(cls, at + 1)) {
    const end = at + cls.length;
    if ((at === 0 || value.charCodeAt(at - 1) === 32) && (end === value.length || value.charCodeAt(end) === 32)) return true;
  }
  return false;
}

export function childWithClass(el: Element, cls: string): Element | undefined {
  for (const child of el.children) if (child.type === "tag" && hasClass(child, cls)) return child;
  return undefined;
}

export function childWithClasses(el: Element, first: string, second: string): Element | undefined {
  for (const child of el.children) if (child.type === "tag" && hasClass(child, first) && hasClass(child, second)) return child;
  return undefined;
}

/** The first descendant, depth first, that passes `test`, not looking inside elements of class `skip`. */
export function findTag(el: { children: AnyNode[] }, test: (el: Element) => boolean, skip?: string): Element | undefined {
  for (const child of el.children) {
    if (child.type !== "tag") continue;
    if (test(child)) return child;
    if (skip && hasClass(child, skip)) continue;
    const inner = findTag(child, test, skip);
    if (inner) return inner;
  }
  return undefined;
}
