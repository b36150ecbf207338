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
 * Operator and function resolutions kept per isolate, by name and argument types. Choosing a
 * candidate costs tens of microseconds (every overload tried against the implicit casts), and a
 * statement resolves one per operator it contains, so each distinct choice is made once. Real
 * workloads use a few hundred combinations; the bound caps what generated SQL over many types
 * could add. Reaching it clears the cache.
 */
export const RESOLUTION_CACHE_MAX = 2048;
