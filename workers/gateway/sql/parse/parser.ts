// The PostgreSQL parser (libpg-query, the real grammar compiled to WASM). `parseSql` returns the
// raw statements as libpg-query's JSON AST; the binder is the only consumer of that shape.
// Syntax errors become SQLSTATE 42601 with Postgres's message and 1-based position.
/// <reference path="./libpg-query.d.ts" />
import type { PgQueryWasm } from "libpg-query/wasm/libpg-query.js";
import { PgError } from "../../../../common/errors.ts";
import { sqlLimits } from "../limits.ts";
import { deepFreeze, type PgNode } from "./ast.ts";
import { checkParseTreeDepth } from "./tree-depth.ts";

export interface RawStatement {
  /** The statement node, e.g. { SelectStmt: {...} }. */
  stmt: PgNode;
  /** Offset and length of this statement in the query string (characters). */
  location: number;
  length: number;
}

let wasm: Promise<PgQueryWasm> | null = null;
/** The module once `wasm` has resolved (null before, and again after a trap dropped it). */
let loaded: PgQueryWasm | null = null;

function isWorkerd(): boolean {
  return (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === "Cloudflare-Workers";
}

function loadWasm(): Promise<PgQueryWasm> {
  if (wasm === null) {
    const pending = (async () => {
      if (isWorkerd()) return (await import("./wasm-loader.ts")).instantiateParserWasm();
      // Node: the Emscripten glue's own loader reads the .wasm beside it.
      const mod = await import("libpg-query/wasm/libpg-query.js");
      return mod.default();
    })();
    wasm = pending;
    pending.then(
      (m) => {
        if (wasm === pending) loaded = m;
      },
      () => {
        if (wasm === pending) wasm = null;
      },
    );
  }
  return wasm;
}

/** Starts loading the parser early (module start-up), so the first query does not wait for it. */
export function warmParser(): Promise<void> {
  return loadWasm().then(() => undefined);
}

/**
 * Parsed statements by query text: applications repeat the same statements (prepared or not),
 * and the AST is only ever read. Bounded, least recently used first out.
 */
const cache = new Map<string, RawStatement[]>();
const CACHE_ENTRIES_MAX = 256;
/** Query texts longer than this are not cached (one-off bulk statements would crowd it out). */
const CACHE_TEXT_CHARS_MAX = 4096;

/**
 * Empties the parse cache. Query texts can hold a tenant's literals, so an isolate that goes on to
 * serve another tenant (workers/edge/gateway-host.ts, the pool) keeps none of the previous one's.
 */
export function clearParseCache(): void {
  cache.clear();
  storedCache.clear();
}

/**
 * Trees of the SQL texts the catalog stores (bind/stored-sql.ts), by a key naming the text and how
 * it is read. Separate from `cache` so a schema's many defaults and checks do not push out the
 * statements clients repeat; cleared with it (the texts hold a tenant's literals). Frozen: every
 * session of the isolate shares them. At most sqlLimits.storedSqlCacheEntriesMax, oldest out.
 */
export const storedTrees = {
  get size(): number {
    return storedCache.size;
  },
  get(key: string): PgNode | undefined {
    return storedCache.get(key);
  },
  set(key: string, tree: PgNode): void {
    deepFreeze(tree);
    if (storedCache.size >= sqlLimits.storedSqlCacheEntriesMax) storedCache.delete(storedCache.keys().next().value!);
    storedCache.set(key, tree);
  },
};
const storedCache = new Map<string, PgNode>();

export async function parseSql(sql: string): Promise<RawStatement[]> {
  const hit = cache.get(sql);
  if (hit !== undefined) {
    cache.delete(sql);
    cache.set(sql, hit);
    return hit;
  }
  const parsed = await parseUncached(sql);
  if (sql.length <= CACHE_TEXT_CHARS_MAX) {
    if (cache.size >= CACHE_ENTRIES_MAX) cache.delete(cache.keys().next().value!);
    cache.set(sql, parsed);
  }
  return parsed;
}

const SET_OPERATION_WORD = /\b(?:union|intersect|except)\b/gi;

/** Refuses, before the parser runs, a statement with more than sqlLimits.setOperationsMax set operations (54001). */
function refuseLongSetOperationChains(sql: string): void {
  // A cheap precondition: no statement can hold more set operations than the text has letters for.
  if (sql.length < sqlLimits.setOperationsMax * 5) return;
  let count = 0;
  SET_OPERATION_WORD.lastIndex = 0;
  while (SET_OPERATION_WORD.exec(sql) !== null) {
    if (++count > sqlLimits.setOperationsMax) {
      throw new PgError("statement_too_complex", "stack depth limit exceeded", {
        hint: `the statement has more than ${sqlLimits.setOperationsMax} UNION / INTERSECT / EXCEPT; combine the branches in fewer steps (a VALUES list, a temporary table)`,
      });
    }
  }
}

async function parseUncached(sql: string): Promise<RawStatement[]> {
  return parseWith(await loadWasm(), sql);
}

/**
 * Parses with the module already loaded, synchronously: for SQL text the catalog stores
 * (bind/stored-sql.ts), which the synchronous binder reads. Every statement was parsed before it
 * is bound, so the module is there; warmParser() brings it back after a trap dropped it.
 */
export function parseSqlSync(sql: string): RawStatement[] {
  if (loaded === null) throw new PgError("internal_error", "the SQL parser is not loaded; call warmParser() first");
  return parseWith(loaded, sql);
}

/**
 * The parser reports no SQLSTATE; most of its errors are 42601, but PostgreSQL's grammar raises a
 * few with another code. Those Warren has met, by message.
 */
const GRAMMAR_CONDITIONS: ReadonlyArray<[RegExp, "feature_not_supported"]> = [
  [/^CREATE SCHEMA IF NOT EXISTS cannot include schema elements$/, "feature_not_supported"],
];

function grammarCondition(message: string): "syntax_error" | "feature_not_supported" {
  return GRAMMAR_CONDITIONS.find(([re]) => re.test(message))?.[1] ?? "syntax_error";
}

function parseWith(module: PgQueryWasm, sql: string): RawStatement[] {
  if (sql.length > sqlLimits.statementCharsMax) {
    throw new PgError("program_limit_exceeded", `statement is ${sql.length} characters long; the limit is ${sqlLimits.statementCharsMax}`);
  }
  refuseLongSetOperationChains(sql);
  return callParser(
    module,
    sql,
    (m, ptr) => m._wasm_parse_query_raw(ptr),
    (m, resultPtr) => m._wasm_free_parse_result(resultPtr),
    "the statement nests too deeply for the parser; simplify it or split it",
    (m, resultPtr) => {
      // PgQueryParseResult { char* parse_tree; char* stderr_buffer; PgQueryError* error }
      const treePtr = m.getValue(resultPtr, "i32");
      const errorPtr = m.getValue(resultPtr + 8, "i32");
      if (errorPtr !== 0) {
        // PgQueryError { char* message; char* funcname; char* filename; int lineno; int cursorpos; char* context }
        const message = m.UTF8ToString(m.getValue(errorPtr, "i32"));
        const cursor = m.getValue(errorPtr + 16, "i32");
        throw new PgError(grammarCondition(message), message, cursor > 0 ? { position: cursor } : {});
      }
      const tree = JSON.parse(m.UTF8ToString(treePtr)) as { stmts?: Array<{ stmt?: PgNode; stmt_location?: number; stmt_len?: number }> };
      checkParseTreeDepth(tree);
      const out: RawStatement[] = [];
      for (const s of tree.stmts ?? []) {
        if (s.stmt === undefined) continue;
        const location = s.stmt_location ?? 0;
        out.push({ stmt: s.stmt, location, length: s.stmt_len ?? sql.length - location });
      }
      return out;
    },
  );
}

/**
 * The PL/pgSQL grammar of the same WebAssembly module (PostgreSQL's own pl_gram.y): `sql` is a
 * whole CREATE FUNCTION … LANGUAGE plpgsql statement; the answer is its PLpgSQL_function node as
 * JSON. Errors (a syntax error, an unknown variable) become 42601 with PostgreSQL's message; the
 * module reports no position for them.
 */
export async function parsePlpgsql(sql: string): Promise<PgNode> {
  if (sql.length > sqlLimits.statementCharsMax) {
    throw new PgError("program_limit_exceeded", `function body is ${sql.length} characters long; the limit is ${sqlLimits.statementCharsMax}`);
  }
  return callParser(
    await loadWasm(),
    sql,
    (m, ptr) => m._wasm_parse_plpgsql(ptr),
    (m, resultPtr) => m._wasm_free_string(resultPtr),
    "the function body nests too deeply for the parser",
    (m, resultPtr) => {
      const text = m.UTF8ToString(resultPtr);
      if (!text.startsWith("{")) throw new PgError("syntax_error", text.replace(/^ERROR:\s*/, ""));
      const tree = JSON.parse(text) as { plpgsql_funcs?: PgNode[] };
      checkParseTreeDepth(tree);
      const fn = tree.plpgsql_funcs?.[0]?.["PLpgSQL_function"] as PgNode | undefined;
      if (fn === undefined) throw new PgError("internal_error", "the PL/pgSQL parser returned no function");
      return fn;
    },
  );
}

/**
 * One call into the WebAssembly parser: copies `sql` in, calls `parse`, hands the result to `read`,
 * and frees both. A trap (the C parser recursed past the native stack: the statement nests too
 * deeply, which Postgres answers with the same 54001) leaves the module's stack pointer and heap as
 * they were mid-call, so the instance is dropped (nothing is freed in it) and the next call gets a
 * fresh one.
 */
function callParser<T>(
  m: PgQueryWasm,
  sql: string,
  parse: (m: PgQueryWasm, queryPtr: number) => number,
  free: (m: PgQueryWasm, resultPtr: number) => void,
  tooDeepHint: string,
  read: (m: PgQueryWasm, resultPtr: number) => T,
): T {
  const len = m.lengthBytesUTF8(sql) + 1;
  const queryPtr = m._malloc(len);
  let resultPtr = 0;
  try {
    m.stringToUTF8(sql, queryPtr, len);
    try {
      resultPtr = parse(m, queryPtr);
    } catch (err) {
      wasm = null;
      loaded = null;
      if (err instanceof RangeError) throw new PgError("statement_too_complex", "stack depth limit exceeded", { hint: tooDeepHint });
      throw err;
    }
    if (resultPtr === 0) throw new PgError("out_of_memory", "the parser could not allocate memory");
    return read(m, resultPtr);
  } finally {
    if (wasm !== null) {
      m._free(queryPtr);
      if (resultPtr !== 0) free(m, resultPtr);
    }
  }
}
