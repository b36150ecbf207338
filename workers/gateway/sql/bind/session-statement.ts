// The statements the session runs itself, outside the statement runner, bound: transaction
// control, SET / RESET / SHOW, DISCARD, SQL-level PREPARE / EXECUTE / DEALLOCATE, and the few
// statements accepted as no-ops. Anything else is "statement": the runner's (../statement.ts).
import { nodeKind, type PgNode, type StatementTree, statementTree, treeOf } from "../parse/ast.ts";

export type BeginOption = { readonly readOnly: boolean } | { readonly isolation: string };

export type TransactionCommand =
  /** BEGIN / START TRANSACTION [READ ONLY | READ WRITE] [ISOLATION LEVEL …]. */
  | { readonly kind: "begin"; readonly options: readonly BeginOption[] }
  | { readonly kind: "commit" }
  | { readonly kind: "rollback" }
  | { readonly kind: "savepoint"; readonly name: string }
  | { readonly kind: "release"; readonly name: string }
  | { readonly kind: "rollback-to"; readonly name: string }
  /** PREPARE TRANSACTION, COMMIT / ROLLBACK PREPARED (0A000). */
  | { readonly kind: "two-phase" }
  | { readonly kind: "unsupported"; readonly what: string };

export type SetCommand =
  | { readonly kind: "set"; readonly name: string; readonly value: string }
  /** SET x TO DEFAULT (tag SET) or RESET x (tag RESET). */
  | { readonly kind: "reset"; readonly name: string; readonly tag: "SET" | "RESET" }
  | { readonly kind: "reset-all" }
  /** SET TRANSACTION … / SET SESSION CHARACTERISTICS AS TRANSACTION …: READ ONLY / WRITE when given. */
  | { readonly kind: "set-transaction"; readonly name: string; readonly readOnly: readonly boolean[] }
  | { readonly kind: "unsupported"; readonly what: string };

/** An EXECUTE argument that is not a constant. */
export const EXPRESSION_ARGUMENT = { expression: true } as const;
export type ExpressionArgument = typeof EXPRESSION_ARGUMENT;

export type SessionStatement =
  | { readonly kind: "transaction"; readonly command: TransactionCommand }
  | { readonly kind: "set"; readonly command: SetCommand }
  | { readonly kind: "show"; readonly name: string }
  | { readonly kind: "discard"; readonly target: string }
  | { readonly kind: "prepare"; readonly name: string; readonly statement: StatementTree; readonly paramCount: number }
  /** Each argument's text (null: NULL), or "expression" for one that is not a constant (0A000 when run). */
  | { readonly kind: "execute"; readonly name: string; readonly params: ReadonlyArray<string | null | ExpressionArgument> }
  | { readonly kind: "deallocate"; readonly name: string | null }
  | { readonly kind: "listen" }
  | { readonly kind: "lock" }
  /** Accepted and done (GRANT, ALTER … OWNER TO, CHECKPOINT): the command tag. */
  | { readonly kind: "ok"; readonly tag: string }
  /** For the statement runner, in a transaction. */
  | { readonly kind: "statement"; readonly createIndex: boolean };

function transactionCommand(body: PgNode): TransactionCommand {
  const kind = body["kind"] as string;
  switch (kind) {
    case "TRANS_STMT_BEGIN":
    case "TRANS_STMT_START":
      return {
        kind: "begin",
        options: ((body["options"] as PgNode[] | undefined) ?? []).flatMap((o): BeginOption[] => {
          const d = o["DefElem"] as PgNode;
          const name = d["defname"] as string;
          const arg = d["arg"] as PgNode | undefined;
          const ival = (arg?.["A_Const"] as PgNode | undefined)?.["ival"] as { ival?: number } | undefined;
          const sval = ((arg?.["A_Const"] as PgNode | undefined)?.["sval"] as { sval?: string } | undefined)?.sval;
          if (name === "transaction_read_only") return [{ readOnly: (ival?.ival ?? 0) === 1 }];
          if (name === "transaction_isolation" && sval !== undefined) return [{ isolation: sval }];
          return [];
        }),
      };
    case "TRANS_STMT_COMMIT":
      return { kind: "commit" };
    case "TRANS_STMT_ROLLBACK":
      return { kind: "rollback" };
    case "TRANS_STMT_SAVEPOINT":
      return { kind: "savepoint", name: body["savepoint_name"] as string };
    case "TRANS_STMT_RELEASE":
      return { kind: "release", name: body["savepoint_name"] as string };
    case "TRANS_STMT_ROLLBACK_TO":
      return { kind: "rollback-to", name: body["savepoint_name"] as string };
    case "TRANS_STMT_PREPARE":
    case "TRANS_STMT_COMMIT_PREPARED":
    case "TRANS_STMT_ROLLBACK_PREPARED":
      return { kind: "two-phase" };
    default:
      return { kind: "unsupported", what: kind };
  }
}

/** SET's value as text: constants joined by ", " (TRUE/FALSE as on/off). */
function setValueText(args: PgNode[]): string {
  return args
    .map((a) => {
      const [k, c] = nodeKind(a);
      if (k === "A_Const") {
        if (c["sval"] !== undefined) return (c["sval"] as { sval?: string }).sval ?? "";
        if (c["ival"] !== undefined) return String((c["ival"] as { ival?: number }).ival ?? 0);
        if (c["fval"] !== undefined) return (c["fval"] as { fval: string }).fval;
        if (c["boolval"] !== undefined) return (c["boolval"] as { boolval?: boolean }).boolval ? "on" : "off";
      }
      if (k === "TypeCast") return ((((c["arg"] as PgNode)["A_Const"] as PgNode)["sval"] as { sval?: string })?.sval) ?? "";
      return "";
    })
    .join(", ");
}

function setCommand(body: PgNode): SetCommand {
  const kind = body["kind"] as string;
  const name = (body["name"] as string | undefined) ?? "";
  const args = (body["args"] as PgNode[] | undefined) ?? [];
  switch (kind) {
    case "VAR_SET_VALUE":
      return { kind: "set", name, value: setValueText(args) };
    case "VAR_SET_DEFAULT":
    case "VAR_RESET":
      return { kind: "reset", name, tag: kind === "VAR_RESET" ? "RESET" : "SET" };
    case "VAR_RESET_ALL":
      return { kind: "reset-all" };
    case "VAR_SET_MULTI": {
      const readOnly: boolean[] = [];
      for (const a of args) {
        const d = a["DefElem"] as PgNode | undefined;
        if (d?.["defname"] === "transaction_read_only") readOnly.push(((((d["arg"] as PgNode)["A_Const"] as PgNode)["ival"] as { ival?: number }).ival ?? 0) === 1);
      }
      return { kind: "set-transaction", name, readOnly };
    }
    default:
      return { kind: "unsupported", what: kind };
  }
}

/** `$n` → `CAST($n AS type_n)` for the declared types, in a copy of the tree. */
function castParams(n: unknown, types: readonly PgNode[]): unknown {
  if (Array.isArray(n)) return n.map((x) => castParams(x, types));
  if (n === null || typeof n !== "object") return n;
  const o = n as PgNode;
  const ref = o["ParamRef"] as PgNode | undefined;
  if (ref !== undefined) {
    const t = types[((ref["number"] as number | undefined) ?? 0) - 1];
    return t === undefined ? o : { TypeCast: { arg: o, typeName: t["TypeName"] ?? t, location: -1 } };
  }
  const out: PgNode = {};
  for (const k of Object.keys(o)) out[k] = castParams(o[k], types);
  return out;
}

/** The text form of one EXECUTE argument: a constant, optionally cast. */
function constantText(n: PgNode): string | null | ExpressionArgument {
  const [kind, body] = nodeKind(n);
  if (kind === "TypeCast") return constantText(body["arg"] as PgNode);
  if (kind !== "A_Const") return EXPRESSION_ARGUMENT;
  if (body["isnull"] === true) return null;
  for (const [k, field] of [["sval", "sval"], ["ival", "ival"], ["fval", "fval"], ["boolval", "boolval"], ["bsval", "bsval"]] as const) {
    const v = body[k] as PgNode | undefined;
    if (v !== undefined) return k === "boolval" ? (v[field] === true ? "true" : "false") : String(v[field] ?? 0);
  }
  return null;
}

export function bindSessionStatement(tree: StatementTree): SessionStatement {
  const [kind, body] = nodeKind(treeOf(tree));
  switch (kind) {
    case "TransactionStmt":
      return { kind: "transaction", command: transactionCommand(body) };
    case "VariableSetStmt":
      return { kind: "set", command: setCommand(body) };
    case "VariableShowStmt":
      return { kind: "show", name: body["name"] as string };
    case "DiscardStmt":
      return { kind: "discard", target: body["target"] as string };
    case "PrepareStmt": {
      const types = (body["argtypes"] as PgNode[] | undefined) ?? [];
      return { kind: "prepare", name: body["name"] as string, statement: statementTree(castParams(body["query"], types) as PgNode), paramCount: types.length };
    }
    case "ExecuteStmt":
      return { kind: "execute", name: body["name"] as string, params: ((body["params"] as PgNode[] | undefined) ?? []).map(constantText) };
    case "DeallocateStmt":
      return { kind: "deallocate", name: body["isall"] === true ? null : (body["name"] as string) };
    case "ListenStmt":
    case "UnlistenStmt":
    case "NotifyStmt":
      return { kind: "listen" };
    case "LockStmt":
      return { kind: "lock" };
    case "GrantStmt":
    case "GrantRoleStmt":
    case "AlterOwnerStmt":
      return { kind: "ok", tag: kind === "GrantStmt" ? "GRANT" : "ALTER" };
    case "CheckPointStmt":
      return { kind: "ok", tag: "CHECKPOINT" };
    default:
      return { kind: "statement", createIndex: kind === "IndexStmt" };
  }
}
