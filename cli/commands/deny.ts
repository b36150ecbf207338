// `warren deny add|remove|list`: the edge's deny list (client addresses or networks, and virtual
// clusters), through the admin API. Adding an entry also ends the live sessions it matches.
import type { Command } from "../command.ts";
import { CliError } from "../command.ts";
import type { ParsedArgs } from "../options.ts";
import { admin, connectionOptions, sources, target } from "./tenant.ts";

const entryArg = { name: "ENTRY", description: "an IP address or CIDR block (203.0.113.7, 10.0.0.0/8), or tenant:NAME", required: true };

/** ENTRY as the admin API's body: {"tenant": NAME} for tenant:NAME, else {"address": ENTRY}. */
export function denyEntryOf(text: string): { address: string } | { tenant: string } {
  return text.startsWith("tenant:") ? { tenant: text.slice("tenant:".length) } : { address: text };
}

function change(verb: "add" | "remove", summary: string): Command {
  return {
    spec: { name: `deny ${verb}`, summary, positionals: [entryArg], options: connectionOptions, notes: sources },
    async run(args: ParsedArgs, io) {
      const { client } = target(args, io);
      const entry = denyEntryOf(args.positional(0));
      const list = await admin(() => (verb === "add" ? client.denyAdd(entry) : client.denyRemove(entry)));
      io.out(args.flag("json") ? JSON.stringify(list) + "\n" : formatDenyList(list));
      return 0;
    },
  };
}

export function formatDenyList(list: { addresses: string[]; tenants: string[] }): string {
  if (list.addresses.length + list.tenants.length === 0) return "the deny list is empty\n";
  return [...list.addresses.map((a) => `address ${a}\n`), ...list.tenants.map((t) => `tenant  ${t}\n`)].join("");
}

export const denyAddCommand = change("add", "Refuse connections from an address or network, or to a virtual cluster; ends matching sessions.");
export const denyRemoveCommand = change("remove", "Remove an entry from the deny list.");
export const denyListCommand: Command = {
  spec: { name: "deny list", summary: "Show the deny list.", positionals: [], options: connectionOptions, notes: sources },
  async run(args, io) {
    const { client } = target(args, io);
    const list = await admin(() => client.denyList());
    if (list === undefined) throw new CliError("the admin API returned no deny list");
    io.out(args.flag("json") ? JSON.stringify(list) + "\n" : formatDenyList(list));
    return 0;
  },
};
