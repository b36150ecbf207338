// Row triggers: CREATE [OR REPLACE] TRIGGER … {BEFORE | AFTER} {INSERT | UPDATE | DELETE} [OR …]
// ON t FOR EACH ROW EXECUTE {FUNCTION | PROCEDURE} f(args), and DROP TRIGGER [IF EXISTS] name ON t.
//
// A trigger is part of its table's descriptor (TableDesc.triggers): it goes with the table, and
// every DML statement that binds the table sees its triggers. The forms PostgreSQL has and Warren
// does not run (FOR EACH STATEMENT, INSTEAD OF, UPDATE OF columns, WHEN, TRUNCATE, REFERENCING,
// constraint triggers) are refused with 0A000 rather than accepted and ignored.
import { PgError } from "../../../../common/errors.ts";
import type { FunctionDesc, TableDesc, TriggerDesc } from "../../catalog/descriptors.ts";
import { stringList, type PgNode } from "../parse/ast.ts";
import { sqlLimits } from "../limits.ts";
import { bump } from "./ddl-common.ts";
import type { DdlChange } from "./ddl-create-table.ts";
import type { DdlExecEnv } from "./ddl.ts";
import { Oid } from "../types/type.ts";

/** CreateTrigStmt.timing and .events bits (PostgreSQL's catalog/pg_trigger.h). */
const TIMING_BEFORE = 2;
const TIMING_INSTEAD = 64;
const EVENT_INSERT = 4;
const EVENT_DELETE = 8;
const EVENT_UPDATE = 16;
const EVENT_TRUNCATE = 32;

function notSupported(what: string): PgError {
  return new PgError("feature_not_supported", `${what} is not supported; only FOR EACH ROW triggers BEFORE or AFTER INSERT, UPDATE or DELETE are`);
}

function triggerTable(env: DdlExecEnv, rv: PgNode): TableDesc {
  const names = [rv["schemaname"], rv["relname"]].filter((x): x is string => typeof x === "string");
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

export async function createTrigger(env: DdlExecEnv, stmt: PgNode): Promise<DdlChange> {
  const name = stmt["trigname"] as string;
  if (stmt["isconstraint"] === true) throw notSupported("CREATE CONSTRAINT TRIGGER");
  if (stmt["row"] !== true) throw notSupported("FOR EACH STATEMENT");
  const timingBits = (stmt["timing"] as number | undefined) ?? 0;
  if ((timingBits & TIMING_INSTEAD) !== 0) throw notSupported("INSTEAD OF");
  const eventBits = (stmt["events"] as number | undefined) ?? 0;
  if ((eventBits & EVENT_TRUNCATE) !== 0) throw notSupported("TRUNCATE triggers");
  if (stmt["columns"] !== undefined) throw notSupported("UPDATE OF column lists");
  if (stmt["whenClause"] !== undefined) throw notSupported("WHEN conditions on triggers");
  if (stmt["transitionRels"] !== undefined) throw notSupported("REFERENCING transition tables");
  const table = triggerTable(env, stmt["relation"] as PgNode);
  const fn = triggerFunction(env, stringList(stmt["funcname"] as PgNode[]));
  const args = ((stmt["args"] as PgNode[] | undefined) ?? []).map((a) => String((a["String"] as PgNode | undefined)?.["sval"] ?? ""));
  const events: TriggerDesc["events"] = [];
  if ((eventBits & EVENT_INSERT) !== 0) events.push("insert");
  if ((eventBits & EVENT_DELETE) !== 0) events.push("delete");
  if ((eventBits & EVENT_UPDATE) !== 0) events.push("update");
  const existing = table.triggers ?? [];
  const same = existing.find((t) => t.name === name);
  if (same !== undefined && stmt["replace"] !== true) throw new PgError("duplicate_object", `trigger "${name}" for relation "${table.name}" already exists`);
  if (same === undefined && existing.length >= sqlLimits.triggersPerTableMax) {
    throw new PgError("program_limit_exceeded", `a table may have at most ${sqlLimits.triggersPerTableMax} triggers`);
  }
  const trigger: TriggerDesc = { id: same?.id ?? (await env.allocateId()), name, functionId: fn.id, timing: (timingBits & TIMING_BEFORE) !== 0 ? "before" : "after", events, args };
  const triggers = same === undefined ? [...existing, trigger] : existing.map((t) => (t.name === name ? trigger : t));
  return { changed: [{ ...bump(table), triggers }], removed: [], tag: "CREATE TRIGGER" };
}

export async function dropTrigger(env: DdlExecEnv, stmt: PgNode): Promise<DdlChange> {
  const missingOk = stmt["missing_ok"] === true;
  const changed: TableDesc[] = [];
  for (const o of stmt["objects"] as PgNode[]) {
    const names = stringList(((o["List"] as PgNode)["items"] as PgNode[]) ?? []);
    const name = names[names.length - 1]!;
    const relNames = names.slice(0, -1);
    const rel = env.catalog.resolveRelation(relNames, env.searchPath);
    if (rel === undefined) {
      if (missingOk) continue;
      throw new PgError("undefined_table", `relation "${relNames.join(".")}" does not exist`);
    }
    const table = changed.find((t) => t.id === rel.id) ?? rel;
    const triggers = table.kind === "table" ? (table.triggers ?? []) : [];
    if (!triggers.some((t) => t.name === name)) {
      if (missingOk) continue;
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
