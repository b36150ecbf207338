// CREATE TRIGGER and DROP TRIGGER, bound: names as written, timing and events as words, the
// string arguments. The forms PostgreSQL has and Warren does not run (FOR EACH STATEMENT, INSTEAD
// OF, UPDATE OF columns, WHEN, TRUNCATE, REFERENCING, constraint triggers) are refused here with
// 0A000 rather than accepted and ignored; exec/ddl-trigger.ts resolves the names in the catalog.
import { PgError } from "../../../../../common/errors.ts";
import { stringList, type PgNode } from "../../parse/ast.ts";

export type TriggerEvent = "insert" | "delete" | "update";

export interface CreateTriggerCommand {
  readonly kind: "create-trigger";
  readonly name: string;
  readonly replace: boolean;
  readonly table: readonly string[];
  readonly functionName: readonly string[];
  readonly timing: "before" | "after";
  /** In the order PostgreSQL prints them: insert, delete, update. */
  readonly events: readonly TriggerEvent[];
  /** EXECUTE FUNCTION f('a', …): the arguments as strings (TG_ARGV). */
  readonly args: readonly string[];
}

export interface DropTriggerCommand {
  readonly kind: "drop-trigger";
  readonly missingOk: boolean;
  readonly targets: ReadonlyArray<{ readonly table: readonly string[]; readonly name: string }>;
}

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

export function bindCreateTrigger(stmt: PgNode): CreateTriggerCommand {
  if (stmt["isconstraint"] === true) throw notSupported("CREATE CONSTRAINT TRIGGER");
  if (stmt["row"] !== true) throw notSupported("FOR EACH STATEMENT");
  const timingBits = (stmt["timing"] as number | undefined) ?? 0;
  if ((timingBits & TIMING_INSTEAD) !== 0) throw notSupported("INSTEAD OF");
  const eventBits = (stmt["events"] as number | undefined) ?? 0;
  if ((eventBits & EVENT_TRUNCATE) !== 0) throw notSupported("TRUNCATE triggers");
  if (stmt["columns"] !== undefined) throw notSupported("UPDATE OF column lists");
  if (stmt["whenClause"] !== undefined) throw notSupported("WHEN conditions on triggers");
  if (stmt["transitionRels"] !== undefined) throw notSupported("REFERENCING transition tables");
  const rv = stmt["relation"] as PgNode;
  const events: TriggerEvent[] = [];
  if ((eventBits & EVENT_INSERT) !== 0) events.push("insert");
  if ((eventBits & EVENT_DELETE) !== 0) events.push("delete");
  if ((eventBits & EVENT_UPDATE) !== 0) events.push("update");
  return {
    kind: "create-trigger",
    name: stmt["trigname"] as string,
    replace: stmt["replace"] === true,
    table: [rv["schemaname"], rv["relname"]].filter((x): x is string => typeof x === "string"),
    functionName: stringList(stmt["funcname"] as PgNode[]),
    timing: (timingBits & TIMING_BEFORE) !== 0 ? "before" : "after",
    events,
    args: ((stmt["args"] as PgNode[] | undefined) ?? []).map((a) => String((a["String"] as PgNode | undefined)?.["sval"] ?? "")),
  };
}

/** DROP TRIGGER [IF EXISTS] name ON t (a DropStmt of OBJECT_TRIGGER). */
export function bindDropTrigger(stmt: PgNode): DropTriggerCommand {
  const targets = (stmt["objects"] as PgNode[]).map((o) => {
    const names = stringList(((o["List"] as PgNode)["items"] as PgNode[]) ?? []);
    return { table: names.slice(0, -1), name: names[names.length - 1]! };
  });
  return { kind: "drop-trigger", missingOk: stmt["missing_ok"] === true, targets };
}
