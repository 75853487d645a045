// The types of bundle.js, which is JavaScript so that bin/duckform.js can run it before any bundle exists.

/** A fresh bundle of the CLI: its main file, or null where the cache cannot be written. */
export function freshBundle(name: "cli"): Promise<{ file: string } | null>;
/** A fresh bundle of the Telegram parse worker: its file, or its code where the cache cannot be written. */
export function freshBundle(name: "telegram-worker"): Promise<{ file: string } | { code: string }>;
