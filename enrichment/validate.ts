import { z } from "zod";
import { annotationSchema, type Annotation } from "./output.ts";

export interface Validated {
  /** batch id → its valid annotation. */
  valid: Map<string, Annotation>;
  /** batch id → why it has none. Every id sent is in exactly one of the two maps. */
  invalid: Map<string, string>;
}

const envelope = z.object({ annotations: z.array(z.unknown()) });

/**
 * Checks a provider's answer for a batch, message by message: a malformed or mis-shaped
 * response fails every id; otherwise each annotation is validated on its own, so one bad item
 * does not throw away the good ones. Ids the batch did not send are ignored.
 */
export function validateReply(body: unknown, ids: string[], categories: readonly string[]): Validated {
  const valid = new Map<string, Annotation>();
  const invalid = new Map<string, string>();
  const failAll = (reason: string) => {
    for (const id of ids) invalid.set(id, reason);
    return { valid, invalid };
  };
  if (typeof body === "string") return failAll(`malformed JSON: ${JSON.stringify(body.slice(0, 80))}`);
  const shaped = envelope.safeParse(body);
  if (!shaped.success) return failAll(`response without an annotations array: ${summarize(shaped.error)}`);

  const sent = new Set(ids);
  const schema = annotationSchema(categories);
  for (const item of shaped.data.annotations) {
    const id = (item as { id?: unknown } | null)?.id;
    if (typeof id !== "string" || !sent.has(id) || valid.has(id)) continue;
    const parsed = schema.safeParse(item);
    if (parsed.success) {
      valid.set(id, parsed.data);
      invalid.delete(id);
    } else {
      invalid.set(id, `invalid annotation: ${summarize(parsed.error)}`);
    }
  }
  for (const id of ids) if (!valid.has(id) && !invalid.has(id)) invalid.set(id, "missing from the response");
  return { valid, invalid };
}

function summarize(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}
