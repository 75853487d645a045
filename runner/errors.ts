/**
 * An error the user can fix: a bad flag, a missing file, a SQL error in an action.
 * The CLI prints these without a stack trace; anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

/** A command line that cannot mean anything (an empty --database): the CLI exits 2, as for a bad flag. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * The message of any thrown value, for errors that come from DuckDB or user code. Errors thrown
 * by project code in the compile sandbox are another realm's Error, which `instanceof Error`
 * does not recognise; String() of one would prefix its message with "Error: ".
 */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : String(error);
}
