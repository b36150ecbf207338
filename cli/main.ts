// `warren`: dispatches to one module per command under commands/. Exit codes: 0 success,
// 1 the command failed (message says why), 2 the command was called wrongly (usage error).
import fs from "node:fs";
import process from "node:process";
import { CliError, type Command, type Io } from "./command.ts";
import { formatHelp, parseArgs, UsageError } from "./options.ts";
import { devCommand } from "./commands/dev.ts";
import { storageNodeCommand } from "./commands/storage-node.ts";
import { fleetMoveCommand } from "./commands/fleet.ts";
import { tunnelCommand } from "./commands/tunnel.ts";
import { denyAddCommand, denyListCommand, denyRemoveCommand } from "./commands/deny.ts";
import {
  tenantAlterCommand,
  tenantCreateCommand,
  tenantDropCommand,
  tenantListCommand,
  tenantResumeCommand,
  tenantShowCommand,
  tenantSuspendCommand,
  tenantUsageCommand,
} from "./commands/tenant.ts";

/** Every command, by the words that name it. */
export const commands: readonly Command[] = [
  devCommand,
  storageNodeCommand,
  tunnelCommand,
  tenantCreateCommand,
  tenantListCommand,
  tenantShowCommand,
  tenantAlterCommand,
  tenantUsageCommand,
  tenantSuspendCommand,
  tenantResumeCommand,
  tenantDropCommand,
  denyAddCommand,
  denyRemoveCommand,
  denyListCommand,
  fleetMoveCommand,
];

/** The command list; `group` ("tenant") narrows it to that group's subcommands. */
function overview(group?: string): string {
  const shown = commands.filter((c) => group === undefined || c.spec.name.startsWith(`${group} `));
  const width = Math.max(...shown.map((c) => c.spec.name.length)) + 2;
  const invocation = group === undefined ? "warren <command>" : `warren ${group} <command>`;
  const lines = [
    `Usage: ${invocation} [options]`,
    "",
    "Commands:",
    ...shown.map((c) => `  ${c.spec.name.padEnd(width)} ${c.spec.summary}`),
    "",
    `Run '${invocation} --help' for a command's options.${group === undefined ? " 'warren --version' prints the version." : ""}`,
  ];
  return lines.join("\n") + "\n";
}

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const first = argv[0];
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    (first === undefined ? io.err : io.out)(overview());
    return first === undefined ? 2 : 0;
  }
  if (first === "--version" || first === "-v") {
    io.out(`warren ${version()}\n`);
    return 0;
  }
  // Longest match first: "tenant create" before a hypothetical "tenant".
  const two = argv.length >= 2 ? `${first} ${argv[1]}` : undefined;
  let command = commands.find((c) => c.spec.name === two);
  let rest = argv.slice(2);
  if (command === undefined) {
    command = commands.find((c) => c.spec.name === first);
    rest = argv.slice(1);
  }
  if (command === undefined) {
    const group = commands.some((c) => c.spec.name.startsWith(`${first} `));
    if (group) {
      const sub = argv[1];
      if (sub === undefined || sub === "--help" || sub === "-h") {
        (sub === undefined ? io.err : io.out)(overview(first));
        return sub === undefined ? 2 : 0;
      }
      io.err(`warren ${first}: unknown command "${sub}"\n` + overview(first));
      return 2;
    }
    io.err(`warren: unknown command "${first}"\n` + overview());
    return 2;
  }
  try {
    const args = parseArgs(command.spec, rest, io.env);
    if (args.help) {
      io.out(formatHelp(command.spec));
      return 0;
    }
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`warren ${err.command}: ${err.message}\nRun 'warren ${err.command} --help' for usage.\n`);
      return 2;
    }
    if (err instanceof CliError) {
      io.err(`warren ${command.spec.name}: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ""}`);
      return err.exitCode;
    }
    io.err(`warren ${command.spec.name}: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
};

/** The entry point cli/warren.mjs calls. Exits explicitly so no idle socket delays the shell. */
export async function runCli(): Promise<void> {
  let code: number;
  try {
    code = await main(process.argv.slice(2), processIo);
  } catch (err) {
    process.stderr.write(`warren: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    code = 1;
  }
  // stdout/stderr writes are synchronous for files, pipes and terminals on Linux, so nothing is lost.
  process.exit(code);
}
