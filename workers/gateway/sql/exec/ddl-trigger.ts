// Row triggers (bound by bind/ddl/trigger.ts): CREATE [OR REPLACE] TRIGGER … {BEFORE | AFTER}
// {INSERT | UPDATE | DELETE} [OR …] ON t FOR EACH ROW EXECUTE {FUNCTION | PROCEDURE} f(args), and
// DROP TRIGGER [IF EXISTS] name ON t.
//
// A trigger is part of its table's descriptor (TableDesc.triggers): it goes with the table, and
// every DML statement that binds the table sees its triggers.
import { PgError } from "../../../../common/errors.ts";
import type { FunctionDesc, TableDesc, TriggerDesc } from "../../catalog/descriptors.ts";
import type { CreateTriggerCommand, DropTriggerCommand } from "../bind/ddl/trigger.ts";
import { sqlLimits } from "../limits.ts";
import { bump } from "./ddl-common.ts";
import type { DdlChange } from "./ddl-create-table.ts";
import type { DdlExecEnv } from "./ddl.ts";
import { Oid } from "../types/type.ts";

function triggerTable(env: DdlExecEnv, names: readonly string[]): TableDesc {
  const rel = env.catalog.resolveRelation(names, env.searchPath);
  if (rel === undefined) throw new PgError("undefined_table", `relation "${names.join(".")}" does not exist`);
  if (rel.kind !== "table") throw new PgError("wrong_object_type", `"${rel.name}" is not a table`, { detail: rel.kind === "view" ? "Views cannot have row-level BEFORE or AFTER triggers." : undefined });
  return rel;
}

function triggerFunction(env: DdlExecEnv, names: readonly string[]): FunctionDesc {
  const f = env.catalog.resolveFunctions(names, env.searchPath).find((x) => x.argTypes.length === 0);
  if (f === undefined) throw new PgError("undefined_function", `function ${names.join(".")}() does not exist`);
  if (f.returnType.oid !== Oid.trigger) throw new PgError("invalid_object_definition", `function ${f.name} must return type trigger`);
  return f;
}

export async function createTrigger(env: DdlExecEnv, cmd: CreateTriggerCommand): Promise<DdlChange> {
  const { name } = cmd;
  const table = triggerTable(env, cmd.table);
  const fn = triggerFunction(env, cmd.functionName);
  const existing = table.triggers ?? [];
  const same = existing.find((t) => t.name === name);
  if (same !== undefined && !cmd.replace) throw new PgError("duplicate_object", `trigger "${name}" for relation "${table.name}" already exists`);
  if (same === undefined && existing.length >= sqlLimits.triggersPerTableMax) {
    throw new PgError("program_limit_exceeded", `a table may have at most ${sqlLimits.triggersPerTableMax} triggers`);
  }
  const trigger: TriggerDesc = { id: same?.id ?? (await env.allocateId()), name, functionId: fn.id, timing: cmd.timing, events: [...cmd.events], args: [...cmd.args] };
  const triggers = same === undefined ? [...existing, trigger] : existing.map((t) => (t.name === name ? trigger : t));
  return { changed: [{ ...bump(table), triggers }], removed: [], tag: "CREATE TRIGGER" };
}

export async function dropTrigger(env: DdlExecEnv, cmd: DropTriggerCommand): Promise<DdlChange> {
  const changed: TableDesc[] = [];
  for (const { table: relNames, name } of cmd.targets) {
    const rel = env.catalog.resolveRelation(relNames, env.searchPath);
    if (rel === undefined) {
      if (cmd.missingOk) continue;
      throw new PgError("undefined_table", `relation "${relNames.join(".")}" does not exist`);
    }
    const table = changed.find((t) => t.id === rel.id) ?? rel;
    const triggers = table.kind === "table" ? (table.triggers ?? []) : [];
    if (!triggers.some((t) => t.name === name)) {
      if (cmd.missingOk) continue;
      throw new PgError("undefined_object", `trigger "${name}" for table "${rel.name}" does not exist`);
    }
    const next = { ...bump(table as TableDesc), triggers: triggers.filter((t) => t.name !== name) };
    const at = changed.findIndex((t) => t.id === next.id);
    if (at >= 0) changed[at] = next;
    else changed.push(next);
  }
  return { changed, removed: [], tag: "DROP TRIGGER" };
}

/** Tables whose triggers run one of `functionIds` (DROP FUNCTION refuses to orphan them: 2BP01). */
export function triggersUsing(tables: readonly TableDesc[], functionIds: ReadonlySet<number>): Array<{ table: TableDesc; trigger: TriggerDesc }> {
  const out: Array<{ table: TableDesc; trigger: TriggerDesc }> = [];
  for (const table of tables) for (const trigger of table.triggers ?? []) if (functionIds.has(trigger.functionId)) out.push({ table, trigger });
  return out;
}
