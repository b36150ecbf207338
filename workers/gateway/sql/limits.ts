// Bounds of the SQL layer inside one gateway isolate (128 MB). Each says why; each is tested at its edge.

export const sqlLimits = {
  /**
   * Advisory-lock keys one session may hold at once (session and transaction level together):
   * each is an entry in the storage node's in-memory lock table, shared by every tenant on it, so
   * one session must not fill it. Migration tools take one lock and job queues a few per worker;
   * PostgreSQL's shared lock table (64 per connection by default) refuses more with 53200 "out of
   * shared memory", and Warren answers the same past this bound.
   */
  advisoryLocksPerSessionMax: 256,
  /** Longest query string accepted: 1 MiB of SQL is far beyond hand-written statements and keeps parse memory bounded. */
  statementCharsMax: 1024 * 1024,
  /**
   * Bytes of rows one statement may hold in memory for sorts, hash joins, aggregation and
   * DISTINCT together: 64 MiB, half the isolate, leaving room for the write buffer, the parser's
   * WASM heap and the result being paged out. Past it a query fails with 53200, the isolate lives.
   * A session's work_mem setting may lower the budget, never raise it above this.
   */
  workMemBytes: 64 * 1024 * 1024,
  /** Rows kept for one result returned at once (HTTP / simple query); larger results must page. */
  resultRowsMax: 1_000_000,
  /** Bytes of text in one result returned at once: 32 MiB, within the isolate next to work memory. */
  resultBytesMax: 32 * 1024 * 1024,
  /**
   * Levels of nested expressions and queries the binder accepts (54001 "stack depth limit
   * exceeded" past it). The binder, planner, EXPLAIN and executor recurse per level; inside workerd
   * (whose stack is smaller than Node's) `1+1+…+1` overflowed JavaScript's stack at 1,500 terms
   * and nested scalar subqueries at 565 levels (2 levels each here), so 800 keeps a margin of
   * 1.7× or more for every shape measured (depth.worker.test.ts). Postgres 15 takes `1+…+1` up to
   * ~3,000 terms and fails with the same 54001 past that.
   */
  nestingDepthMax: 800,
  /**
   * Nodes a parse tree may nest, measured right after parsing without recursion
   * (parse/tree-depth.ts), so no pass before or beside the binder's own count recurses deeper:
   * raw-tree walks, joins nested in FROM (the binder counts no level for a join), CASE arms. 1,000
   * nodes is 330 nested scalar subqueries or 990 nested joins, each measured to pass binding,
   * planning, EXPLAIN [ANALYZE], Describe and execution in workerd. A chain of UNION / INTERSECT /
   * EXCEPT counts one level (bound iteratively; a 5,000-way UNION ALL is one n-way append).
   */
  parseTreeDepthMax: 1000,
  /**
   * Query texts a session keeps parsed (parse-cache.ts): 256 covers the prepared statements of an
   * ORM's working set and a driver's statement cache (pg's and postgres.js's default to far fewer),
   * and, with the bound below, keeps the cache a small share of the isolate.
   */
  parseCacheEntriesMax: 256,
  /**
   * Longest text the parse cache keeps: 64 Ki characters. Longer texts (a generated bulk INSERT)
   * are rarely sent twice, and their trees are large.
   */
  parseCacheTextCharsMax: 64 * 1024,
  /**
   * Parsed trees of catalog-stored SQL (defaults, checks, index predicates, view queries) an
   * isolate keeps (parse/parser.ts parseStoredSync): 4,096 covers the expressions of a few hundred
   * tables; past it the oldest is parsed again when next used (tens of microseconds).
   */
  storedSqlCacheEntriesMax: 4096,
  /** Characters of text the parse cache holds in all: 4 Mi, so one session's trees stay a few MiB. */
  parseCacheTextCharsTotalMax: 4 * 1024 * 1024,
  /**
   * UNION / INTERSECT / EXCEPT keywords in one statement's text, counted before it is parsed. The
   * parser (WebAssembly) runs in one call that cannot yield, and a set-operation chain is the
   * costliest shape for it: a 10,000-way UNION ALL ran it out of native stack after ~1 s of
   * computation (then the parser instance had to be rebuilt), stalling every tenant on the thread
   * (a victim's p99 3.6–8.9× solo). 5,000 — the largest chain measured to pass parsing, binding
   * and execution — still parses; past it the statement is refused at once with 54001. The count
   * is of words, so the keywords inside string literals or identifiers count too (harmless at this
   * size).
   */
  setOperationsMax: 5000,
  /**
   * statement_timeout when neither the tenant (SessionOptions.statementTimeoutMsDefault) nor the
   * session sets one: 30 s. Postgres has no default; here one isolate serves many requests, so a
   * forgotten runaway query must end on its own. 30 s is past any interactive query and matches
   * the Workers platform's default CPU limit per request.
   */
  statementTimeoutMsDefault: 30_000,
  /**
   * The operator's bound on statement_timeout: larger settings, and 0 (Postgres: none), mean this.
   * 5 minutes is the most CPU time the Workers platform grants one invocation, so a longer
   * statement would be killed by the platform anyway, without a SQLSTATE.
   */
  statementTimeoutMsMax: 300_000,
  /**
   * Target CPU time between two returns of a statement to the event loop. Locally every isolate
   * (the edge, every tenant's gateway) shares workerd's one thread, so each hop of another tenant's
   * query (edge, its gateway, the storage call, back) may wait up to one slice behind a computing
   * statement; a point query makes several hops, so its added latency is a few slices. At 10 ms
   * that put a victim's p99 at 8–12× its solo 9.6 ms under count(*)/select over generate_series
   * (issue 7, acceptance 1 wants 3×); 3 ms keeps a few slices within that. A return
   * (setTimeout(0)) takes 1.2–1.8 ms of wall time in workerd (the timer's granularity; the thread
   * is free for others meanwhile, see exec/budget.ts); the price falls on purely computing
   * statements: count(*) over generate_series(1, 1e6) made 57 returns and took +13.5 % wall time
   * against runs without (exec/budget.worker.test.ts prints it; the machine was at load 20). A wait on storage or on the client that went through the
   * event loop starts a fresh slice, so scans over real storage add few returns of their own.
   */
  yieldSliceMs: 3,
  /**
   * Labels of one enum type. pg_enum rows get OIDs enumLabelOid(typeId, i) from a block of this
   * many per type (catalog/oids.ts), and each column of the type carries a copy of the labels in
   * its table descriptor; 1,000 is far beyond real enums (Postgres allows more, but nobody needs it).
   */
  enumLabelsMax: 1000, // = ENUM_LABELS_MAX in catalog/oids.ts (limits.ts imports nothing; oid-block.test.ts holds them equal)
  /**
   * The highest index id a table may reach. Index ids are never reused (an index's keys live under
   * its id until cleared), so this bounds the indexes a table creates over its life, not the ones
   * it holds: each has an OID in its table's block (catalog/oids.ts), and the blocks of ~2.25 M
   * descriptor ids must fit 32-bit OIDs. 899 CREATE INDEX on one table is beyond real schemas;
   * past it, the table must be recreated. Postgres has no such limit.
   */
  indexIdMax: 899, // = INDEX_ID_MAX in catalog/oids.ts
  /** Constraints (primary key, unique, check, foreign key) one table holds: the rest of its OID block. */
  constraintsPerTableMax: 1000, // = CONSTRAINTS_PER_TABLE_MAX in catalog/oids.ts
  /**
   * CHECK constraints per domain (CREATE DOMAIN): every column of the domain carries a copy of them
   * in its table descriptor and every assignment evaluates all of them, so a domain with hundreds
   * would bloat descriptors and slow writes; real domains have one or two. Postgres has no limit.
   */
  domainChecksMax: 32,
  /** Arguments of a user-defined function: Postgres's FUNC_MAX_ARGS, so the same definitions load. */
  functionArgsMax: 100,
  /**
   * How deep SQL functions are inlined into each other at bind time. A recursive SQL function
   * would inline forever (Postgres runs those instead of inlining them); past this depth the call
   * fails with 54001 as Postgres's stack depth check does. 32 is far deeper than real helper chains.
   */
  functionInlineDepthMax: 32,
  /**
   * Characters of a function body (pg_proc.prosrc): the body lives in the function's catalog
   * descriptor, which every session loads with the catalog; 64 KiB is far above application
   * functions and keeps one descriptor small. Postgres allows up to 1 GB.
   */
  functionBodyCharsMax: 65_536,
  /**
   * PL/pgSQL functions and triggers running inside one another (recursion, a trigger whose
   * function writes a table with a trigger, …). A call is a chain of async frames that can run
   * without returning to the event loop, so the depth is bounded well below what exhausts the
   * isolate's JavaScript stack; past it the call fails with 54001 "stack depth limit exceeded",
   * as Postgres's max_stack_depth check does (PostgreSQL 15 reaches a few thousand levels).
   */
  plpgsqlCallDepthMax: 200,
  /**
   * Triggers on one table. Every row written to the table looks its triggers up and each one is a
   * function call per row; 100 is far beyond what schemas use (an updated_at and an audit trigger)
   * and keeps a table descriptor small. Postgres has no such limit.
   */
  triggersPerTableMax: 100,
  /**
   * RAISE NOTICE / WARNING / INFO messages kept for one statement's result. They are held until
   * the statement ends; a loop raising a notice per row would otherwise grow without bound. Later
   * ones are dropped (PostgreSQL streams them all).
   */
  noticesPerStatementMax: 1000,
  /**
   * SQL-level prepared statements (PREPARE) one session may hold: each keeps a parse tree in the
   * isolate's memory for the session's life. pg_dump prepares about twenty; 1,000 leaves room for
   * any client while bounding a session that prepares in a loop. Postgres has no such limit.
   */
  sqlPreparedStatementsMax: 1000,
  /**
   * Work units (≈ one row through one operator) before the first return, until the statement's
   * own slices have calibrated the rate: 1,000 units take 0.05–10 ms on the rows measured (a
   * numeric generate_series row costs ~10 µs), and the cadence may grow 4× a slice from there.
   */
  yieldUnitsInitial: 1_000,
  /** Fewest units per slice: a unit may be costly (a row carrying a maximal string), and a slice must still do some work. */
  yieldUnitsMin: 16,
  /** Most units per slice: the cheapest units (a merge step, 20 ns) at yieldSliceMs, so calibration noise cannot stretch a slice far. */
  yieldUnitsMax: 1_000_000,
  /**
   * How long past its deadline a statement's open slice still takes a share of the thread's time
   * in the isolate's CPU ledger (exec/thread-ledger.ts). A statement checks its deadline at every
   * pause, at most a slice (yieldSliceMs) apart, and then ends its slice; one still open a second
   * later belongs to a statement that was abandoned without finishing (a bug), and must stop
   * diluting the shares of the statements that are charged.
   */
  ledgerAbandonGraceMs: 1_000,
  /**
   * UTF-16 code units per chunk of a DISTINCT key set's arena (exec/key-set.ts). The first chunk
   * doubles up to this size, so its largest copy is 128 KiB (well under a millisecond); a key and
   * its one-unit length header must fit a chunk, so a key of up to this minus one units is kept in
   * the arena, a longer one as a string (at most work memory / 128 KiB of those can exist). 65,536
   * is also the most a one-unit (u16) length header can describe.
   */
  keySetChunkChars: 65_536,
  /**
   * Slots of a grown DISTINCT key set's old table moved into the new one per add (incremental
   * rehashing). A table doubles once it is half full, after as many adds as half its old size, so
   * 2 would finish just in time; 8 finishes in a quarter of that, and eight slot moves cost well
   * under a microsecond, where a JavaScript Set rehashes all of its entries in one step (1.3 s at
   * 2^20 entries measured on a loaded machine).
   */
  keySetRehashSlotsPerAdd: 8,
  /**
   * Slots per segment of a hash table's slot array (exec/slot-table.ts), a power of two: 32,768
   * Int32 slots are 128 KiB, the size of an arena chunk. Allocating a zeroed typed array in workerd
   * took ~13 ms per 4 MiB (load ~5), so one allocation of this size is well under a millisecond,
   * where the 16 MiB table a DISTINCT key set grows to past 2^20 keys took 52–56 ms in one step.
   */
  hashSegmentSlots: 32_768,
  /**
   * Rows sorted by one Array.prototype.sort call (a run) before runs are merged step by step with
   * returns to the event loop: 4,096 rows sort in ~2–5 ms, one call that cannot be interrupted.
   */
  sortRunRows: 4096,
  /** Iterations of a recursive CTE before it is assumed to be unbounded: a runaway recursion stops after seconds of CPU, not minutes. */
  recursiveIterationsMax: 100_000,
} as const;
