// Bounds for the function layer, each with the reason for its value.

/**
 * Longest string a function may build (repeat, lpad, rpad), in characters. Postgres allows 1 GB;
 * a gateway isolate has 128 MB in total, and a JavaScript string of 16 Mi characters can take
 * 32 MB, so one call cannot take a quarter of the isolate.
 */
export const STRING_RESULT_CHARS_MAX = 16 * 1024 * 1024;

/**
 * Elements one array value may hold (array_agg, string_to_array, array_cat, ||): 1 Mi. Postgres
 * allows 134 M; here an element costs 8–40 bytes of a 128 MB isolate, so a million-element array
 * already takes up to 40 MB.
 */
export const ARRAY_ELEMENTS_MAX = 1024 * 1024;

/**
 * Compiled regular expressions kept per isolate. A statement applies one pattern to every row,
 * so a small cache removes recompilation; the bound keeps patterns built from row data (regexp
 * on a column) from growing it without limit. Reaching it evicts the least recently used.
 */
export const PATTERN_CACHE_MAX = 256;

/**
 * Operator and function resolutions kept per isolate, by name and argument types. Choosing a
 * candidate costs tens of microseconds (every overload tried against the implicit casts), and a
 * statement resolves one per operator it contains, so each distinct choice is made once. Real
 * workloads use a few hundred combinations; the bound caps what generated SQL over many types
 * could add. Reaching it clears the cache.
 */
export const RESOLUTION_CACHE_MAX = 2048;

/**
 * Longest regular expression pattern accepted, in characters. Postgres has no explicit bound
 * (only its compile-space limit); ours keeps parsing and NFA construction small and predictable:
 * 64 Ki characters is far beyond hand-written patterns yet bounds a generated one.
 */
export const REGEX_PATTERN_CHARS_MAX = 64 * 1024;

/**
 * NFA states of a regular expression's whole-pattern automaton. Matching costs O(text length ×
 * states), so this bounds the cost per input character. Counted repetition is expanded: Postgres
 * refuses repeat('x*y*z*', 1000) (9,001 states here) as "regular expression is too complex"
 * (2201B), and this bound refuses it too, while leaving room for patterns far larger than
 * hand-written ones ((a{255}){10} has 2,562).
 */
export const REGEX_NFA_STATES_MAX = 8_000;

/**
 * NFA states of all the automata one regular expression compiles (the whole pattern, one per
 * capture-tree node and one per lookaround). Nested groups repeat their contents in each
 * enclosing node's automaton; this bounds that growth (and the memory it takes) at ten times
 * the whole-pattern bound.
 */
export const REGEX_NFA_TOTAL_STATES_MAX = 80_000;

/**
 * Work budget, in matcher steps (one NFA state visited at one position, or one dissection call),
 * for one regular-expression search that uses back-references. Back-references cannot be matched
 * in linear time; the matcher backtracks like Postgres's, so it is bounded by this budget and
 * ends with 2201B "regular expression failed: regular expression is too complex" (the code and text
 * Postgres gives when its own matcher gives up). 20 M steps are about a second of CPU here.
 */
export const REGEX_BACKREF_STEPS_MAX = 20_000_000;

/**
 * Work budget, in matcher steps, for one call of a regular-expression function without
 * back-references (all its searches over one text together). Such matching is linear, O(text ×
 * NFA states), but a 16 MiB text against an 8,000-state pattern is still 10^11 steps, and a
 * function call cannot be interrupted (statement_timeout is checked between row batches) while
 * the isolate's thread is shared. 200 M steps are a few seconds of CPU: a 1 MiB text against a
 * 150-state pattern fits. Past it: 54000 program_limit_exceeded (a Warren bound, not a Postgres
 * error, so not 2201B).
 */
export const REGEX_STEPS_MAX = 200_000_000;
