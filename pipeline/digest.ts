import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

/**
 * A digest of files under a project (`seeds`, `definitions`…) and of any extra text (the vars):
 * what the pipeline compares with the previous run's to know whether a stage has anything new.
 * Names and contents both count, so a renamed file is a change.
 */
export function digestOf(projectDir: string, parts: string[], extra = ""): string {
  const root = resolve(projectDir);
  const hash = createHash("sha256").update(extra).update("\0");
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) if (name !== "node_modules") visit(join(path, name));
      return;
    }
    hash.update(relative(root, path)).update("\0").update(readFileSync(path)).update("\0");
  };
  for (const part of parts) visit(join(root, part));
  return hash.digest("hex");
}
