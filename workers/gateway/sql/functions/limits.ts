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
 * on a column) from growing it without limit. Reaching it clears the cache.
 */
export const PATTERN_CACHE_MAX = 256;
