// The data both COPY tests load into Warren and into PostgreSQL 15: one column of every type the
// SQL layer supports (arrays included), and rows chosen to exercise every escape rule of COPY's
// three formats: NULLs, empty strings, quotes, delimiters, backslashes, line ends, non-ASCII text,
// `\.` and `\N` as data, special floats and numerics, dates before Christ and infinities.

export const COPY_TABLE_DDL = `CREATE TABLE copy_types (
  id int PRIMARY KEY,
  b bool, i2 int2, i4 int4, i8 int8, o oid, f4 float4, f8 float8,
  n numeric, n2 numeric(12,4),
  t text, vc varchar(20), bp char(6), nm name,
  by bytea, u uuid, j json, jb jsonb,
  d date, ts timestamp, tstz timestamptz, iv interval,
  ai int4[], at text[], an numeric[], ab bool[], ad date[]
)`;

/** The column names, in table order. */
export const COPY_COLUMNS = [
  "id", "b", "i2", "i4", "i8", "o", "f4", "f8", "n", "n2", "t", "vc", "bp", "nm", "by", "u", "j", "jb",
  "d", "ts", "tstz", "iv", "ai", "at", "an", "ab", "ad",
];

/** INSERT statements, the same text for both servers (standard_conforming_strings on; E'' for escapes). */
export const COPY_ROWS_SQL: string[] = [
  `INSERT INTO copy_types VALUES (1, true, 1, 2, 3, 4, 1.5, 2.25, 123.456, 1.5, 'plain', 'varchar', 'ab', 'name1',
    '\\xdeadbeef', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2, {"b": null}]}', '{"b": 1, "a": "x"}',
    '2024-02-29', '2024-01-02 03:04:05.678', '2024-01-02 03:04:05+02', '1 year 2 mons 3 days 04:05:06.7',
    '{1,NULL,3}', '{"a b","c,d",NULL,"\\"q\\""}', '{1.5,NULL,-2}', '{t,f}', '{2024-01-01,NULL}')`,
  `INSERT INTO copy_types (id) VALUES (2)`,
  `INSERT INTO copy_types VALUES (3, false, 0, 0, 0, 0, 0, 0, 0, 0, '', '', '', '',
    '\\x', '00000000-0000-0000-0000-000000000000', '""', '[]',
    '2000-01-01', '2000-01-01 00:00:00', '2000-01-01 00:00:00+00', '0 seconds',
    '{}', '{""}', '{}', '{}', '{}')`,
  `INSERT INTO copy_types (id, t, vc, bp, nm, j, jb, at) VALUES (4,
    E'tab\\there, newline\\nthere, cr\\rthere, backslash\\\\ here, quote " and \\' and , and |',
    E'semi;colon\\\\N', E'\\\\.', 'NULL',
    E'{"k": "line\\\\nbreak \\\\u00e9"}', E'{"é": "日本", "emoji": "\\u263a\\u00e9"}',
    E'{"tab\\there","new\\nline","back\\\\\\\\slash","NULL",null,"\\\\\\\\N","a\\\\"b"}')`,
  `INSERT INTO copy_types (id, t) VALUES (5, E'\\\\.')`,
  `INSERT INTO copy_types (id, t, vc) VALUES (6, E'\\\\N', '')`,
  `INSERT INTO copy_types (id, t, nm) VALUES (7, 'héllo wörld 日本語 🎉', 'ünïcode')`,
  `INSERT INTO copy_types (id, i2, i4, i8, o, f4, f8, n, n2) VALUES (8, -32768, -2147483648, -9223372036854775808, 4294967295,
    'NaN', '-Infinity', 'NaN', -99999999.9999)`,
  `INSERT INTO copy_types (id, i2, i4, i8, f4, f8, n, n2) VALUES (9, 32767, 2147483647, 9223372036854775807,
    3.4028235e38, 1e-300, 123456789012345678901234567890.000000000000000000001, 0.0001)`,
  `INSERT INTO copy_types (id, f4, f8, n) VALUES (10, 'Infinity', 'Infinity', '-Infinity')`,
  `INSERT INTO copy_types (id, f4, f8, n) VALUES (11, -0.1, -0.30000000000000004, -0.000)`,
  `INSERT INTO copy_types (id, d, ts, tstz, iv) VALUES (12, '0044-03-15 BC', '1999-12-31 23:59:59.999999', '1970-01-01 00:00:00+00', '-1 days -02:00:00')`,
  `INSERT INTO copy_types (id, d, ts, tstz, iv) VALUES (13, 'infinity', '-infinity', 'infinity', '178000000 years')`,
  `INSERT INTO copy_types (id, d, ts, tstz, iv) VALUES (14, '9999-12-31', '2262-04-11 23:47:16.854775', '1901-12-13 20:45:52+00', '00:00:00.000001')`,
  `INSERT INTO copy_types (id, by, j, jb) VALUES (15, '\\x00ff0a0d5c09', '  {"spaces" : true }  ', '{"n": 1.50, "big": 12345678901234567890}')`,
];
