/**
 * An error the user can fix: a bad flag, a missing file, a SQL error in an action.
 * The CLI prints these without a stack trace; anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly details: { action?: string; file?: string; line?: number } = {},
  ) {
    super(message);
    this.name = "UserError";
  }
}

/** The message of any thrown value, for errors that come from DuckDB or user code. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
