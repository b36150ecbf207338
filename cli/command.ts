// What every `warren` command module exports, and the error type for failures a user can act on.
import type { CommandSpec, ParsedArgs } from "./options.ts";

/** The process's surroundings, passed in so commands can be run from tests. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export interface Command {
  readonly spec: CommandSpec;
  /** Resolves to the exit code. Throws UsageError (exit 2) or CliError (its exitCode). */
  run(args: ParsedArgs, io: Io): Promise<number>;
}

/** A failure with a message a person can act on; printed without a stack trace. */
export class CliError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;
  constructor(message: string, hint?: string, exitCode = 1) {
    super(message);
    this.name = "CliError";
    this.hint = hint;
    this.exitCode = exitCode;
  }
}
