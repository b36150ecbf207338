// Bounds for the function layer, each with the reason for its value.

/**
 * Longest string a function may build (repeat, lpad, rpad), in characters. Postgres allows 1 GB;
 * a gateway isolate has 128 MB in total, and a JavaScript string of 16 Mi characters can take
 * 32 MB, so one call cannot take a quarter of the isolate.
 */
export const STRING_RESULT_CHARS_MAX = 16 * 1024 * 1024;

/**
 * Compiled regular expressions kept per isolate. A statement applies one pattern to every row,
 * so a small cache removes recompilation; the bound keeps patterns built from row data (regexp
 * on a column) from growing it without limit. Reaching it clears the cache.
 */
export const PATTERN_CACHE_MAX = 256;

/**
 * Longest regular expression pattern accepted, in characters. Postgres has no explicit bound
 * (only its compile-space limit); ours keeps parsing and NFA construction small and predictable:
 * 64 Ki characters is far beyond hand-written patterns yet bounds a generated one.
 */
export const REGEX_PATTERN_CHARS_MAX = 64 * 1024;

/**
 * NFA states one compiled regular expression may have (all its sub-automata together).
 * Matching costs O(text length × states), so this bounds the cost per input character.
 * Counted repetition is expanded, so `(x{255}){255}` reaches it and is refused as Postgres
 * refuses it: 2201B "regular expression is too complex". 100,000 states keep the regression
 * suite's largest case (repeat('x*y*z*', 1000), about 15,000 states) well inside.
 */
export const REGEX_NFA_STATES_MAX = 100_000;

/**
 * Work budget, in matcher steps (one NFA state visited at one position, or one dissection call),
 * for one regular-expression search that uses back-references. Back-references cannot be matched
 * in linear time; the matcher backtracks like Postgres's, so it is bounded by this budget and
 * ends with 2201B "regular expression failed: regular expression is too complex" (the code and text
 * Postgres gives when its own matcher gives up). 20 M steps are about a second of CPU here.
 */
export const REGEX_BACKREF_STEPS_MAX = 20_000_000;
