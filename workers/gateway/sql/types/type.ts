// The SQL type model: what a column, parameter or expression "is", in Postgres's own terms.
//
// A SqlType is a small immutable value: the Postgres type OID, its pg_type name, a type modifier
// encoded exactly as Postgres encodes atttypmod, and for arrays the element type. Two SqlTypes are
// the same type when their OIDs are equal (`sameType`); the typmod only narrows values (varchar(10),
// numeric(10,2), timestamp(3)) and is applied by casts (cast.ts).
//
// Everything about a type that does not vary with its typmod (typlen, category, preferred flag,
// array OID) lives in one table keyed by OID (`typeInfo`), copied from PostgreSQL 15's pg_type, so
// FieldDescription, type resolution and casts all read the same facts.
//
// Name lookup (`typeFromName`) accepts what libpg-query hands the binder: ["pg_catalog","int4"],
// ["text"], ["varchar"] with typmod args [10], arrayBounds for `int[]`, as well as SQL spellings
// ("integer", "double precision", "timestamp with time zone").

import { PgError } from "../../../../common/errors.ts";

export interface SqlType {
  /** Postgres type OID (23 = int4, 1007 = _int4, …): what RowDescription reports. */
  readonly oid: number;
  /** pg_type.typname: int4, text, _int4 for arrays. */
  readonly name: string;
  /**
   * Type modifier as Postgres encodes atttypmod, -1 when none:
   * varchar(n)/bpchar(n) → n + 4; numeric(p,s) → ((p << 16) | (s & 0x7ff)) + 4;
   * timestamp(p)/timestamptz(p)/interval(p) → p. Arrays carry their element's typmod.
   */
  readonly typmod: number;
  /** The element type, for array types only. */
  readonly elem?: SqlType;
  /** The labels of a user-defined enum type (CREATE TYPE … AS ENUM), for enum types only. */
  readonly enum?: EnumLabels;
  /**
   * Set when the value belongs to a domain (CREATE DOMAIN) over this base type: everything but
   * assignment to a column and casts (which check the domain's constraints) sees the base type,
   * and RowDescription reports the base type's OID, as Postgres does.
   */
  readonly domain?: DomainInfo;
}

/** A domain's identity and constraints (stored SQL text, bound where a value is coerced to the domain). */
export interface DomainInfo {
  readonly typeId: number;
  readonly name: string;
  readonly schema: string;
  readonly notNull: boolean;
  readonly checks: ReadonlyArray<{ readonly name: string; readonly expr: StoredSqlLike }>;
  readonly defaultExpr: StoredSqlLike | null;
}

/**
 * An enum type's labels in declaration order and their pg_enum.enumsortorder, which decides how
 * values compare and how they sort in index keys (ALTER TYPE … ADD VALUE BEFORE/AFTER gives a new
 * label an order between two others, so orders are floats, as in Postgres). A value of an enum
 * type is its label (a string); the labels travel with the type so that every layer under the
 * binder (comparison, index keys, text input) can work without a catalog.
 */
export interface EnumLabels {
  /** The type's schema, for messages and format_type. */
  readonly schema: string;
  readonly labels: readonly string[];
  /** enumsortorder of labels[i]. */
  readonly sortOrders: readonly number[];
}

/** Postgres type categories (pg_type.typcategory), used by implicit-cast resolution. */
export type TypeCategory =
  | "A" // array
  | "B" // boolean
  | "D" // date/time
  | "E" // enum
  | "N" // numeric
  | "P" // pseudo-type
  | "S" // string
  | "T" // timespan
  | "U" // user-defined-like (bytea, uuid, json, jsonb)
  | "X" // unknown
  | "Z"; // internal ("char")

export interface TypeInfo {
  readonly oid: number;
  readonly name: string;
  /** pg_type.typlen: bytes for fixed width, -1 varlena, -2 C string (unknown). */
  readonly typlen: number;
  readonly category: TypeCategory;
  /** pg_type.typispreferred: the category's preferred type in implicit resolution. */
  readonly preferred: boolean;
  /** OID of the array type whose elements are this type; 0 when none. */
  readonly arrayOid: number;
}

/** Type OIDs, named as Postgres names them in pg_type.h (INT4OID → Oid.int4). */
export const Oid = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2vector: 22,
  oidvector: 30,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  unknown: 705,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timetz: 1266,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  regproc: 24,
  regprocedure: 2202,
  regoper: 2203,
  regoperator: 2204,
  regclass: 2205,
  regtype: 2206,
  regconfig: 3734,
  regnamespace: 4089,
  regrole: 4096,
  record: 2249,
  void: 2278,
  /** The pseudo-type trigger functions return (never a value type). */
  trigger: 2279,
  uuid: 2950,
  jsonb: 3802,
} as const;

// Facts from PostgreSQL 15's pg_type (checked against a live server).
const SCALAR_INFO: readonly TypeInfo[] = [
  { oid: 16, name: "bool", typlen: 1, category: "B", preferred: true, arrayOid: 1000 },
  { oid: 17, name: "bytea", typlen: -1, category: "U", preferred: false, arrayOid: 1001 },
  { oid: 18, name: "char", typlen: 1, category: "Z", preferred: false, arrayOid: 1002 },
  { oid: 19, name: "name", typlen: 64, category: "S", preferred: false, arrayOid: 1003 },
  { oid: 20, name: "int8", typlen: 8, category: "N", preferred: false, arrayOid: 1016 },
  { oid: 22, name: "int2vector", typlen: -1, category: "A", preferred: false, arrayOid: 1006 },
  { oid: 30, name: "oidvector", typlen: -1, category: "A", preferred: false, arrayOid: 1013 },
  { oid: 21, name: "int2", typlen: 2, category: "N", preferred: false, arrayOid: 1005 },
  { oid: 23, name: "int4", typlen: 4, category: "N", preferred: false, arrayOid: 1007 },
  { oid: 25, name: "text", typlen: -1, category: "S", preferred: true, arrayOid: 1009 },
  { oid: 26, name: "oid", typlen: 4, category: "N", preferred: true, arrayOid: 1028 },
  { oid: 114, name: "json", typlen: -1, category: "U", preferred: false, arrayOid: 199 },
  { oid: 700, name: "float4", typlen: 4, category: "N", preferred: false, arrayOid: 1021 },
  { oid: 701, name: "float8", typlen: 8, category: "N", preferred: true, arrayOid: 1022 },
  { oid: 705, name: "unknown", typlen: -2, category: "X", preferred: false, arrayOid: 0 },
  { oid: 1042, name: "bpchar", typlen: -1, category: "S", preferred: false, arrayOid: 1014 },
  { oid: 1043, name: "varchar", typlen: -1, category: "S", preferred: false, arrayOid: 1015 },
  { oid: 1082, name: "date", typlen: 4, category: "D", preferred: false, arrayOid: 1182 },
  { oid: 1083, name: "time", typlen: 8, category: "D", preferred: false, arrayOid: 1183 },
  { oid: 1266, name: "timetz", typlen: 12, category: "D", preferred: false, arrayOid: 1270 },
  { oid: 1114, name: "timestamp", typlen: 8, category: "D", preferred: false, arrayOid: 1115 },
  { oid: 1184, name: "timestamptz", typlen: 8, category: "D", preferred: true, arrayOid: 1185 },
  { oid: 1186, name: "interval", typlen: 16, category: "T", preferred: true, arrayOid: 1187 },
  { oid: 1700, name: "numeric", typlen: -1, category: "N", preferred: false, arrayOid: 1231 },
  { oid: 24, name: "regproc", typlen: 4, category: "N", preferred: false, arrayOid: 1008 },
  { oid: 2202, name: "regprocedure", typlen: 4, category: "N", preferred: false, arrayOid: 2207 },
  { oid: 2203, name: "regoper", typlen: 4, category: "N", preferred: false, arrayOid: 2208 },
  { oid: 2204, name: "regoperator", typlen: 4, category: "N", preferred: false, arrayOid: 2209 },
  { oid: 2205, name: "regclass", typlen: 4, category: "N", preferred: false, arrayOid: 2210 },
  { oid: 2206, name: "regtype", typlen: 4, category: "N", preferred: false, arrayOid: 2211 },
  { oid: 3734, name: "regconfig", typlen: 4, category: "N", preferred: false, arrayOid: 3735 },
  { oid: 4089, name: "regnamespace", typlen: 4, category: "N", preferred: false, arrayOid: 4090 },
  { oid: 4096, name: "regrole", typlen: 4, category: "N", preferred: false, arrayOid: 4097 },
  { oid: 2249, name: "record", typlen: -1, category: "P", preferred: false, arrayOid: 2287 },
  { oid: 2278, name: "void", typlen: 4, category: "P", preferred: false, arrayOid: 0 },
  { oid: 2950, name: "uuid", typlen: 16, category: "U", preferred: false, arrayOid: 2951 },
  { oid: 3802, name: "jsonb", typlen: -1, category: "U", preferred: false, arrayOid: 3807 },
];

const INFO_BY_OID = new Map<number, TypeInfo>();
/** Array OID → element OID. */
const ELEM_OF_ARRAY = new Map<number, number>();
for (const info of SCALAR_INFO) {
  INFO_BY_OID.set(info.oid, info);
  if (info.arrayOid !== 0) {
    ELEM_OF_ARRAY.set(info.arrayOid, info.oid);
    INFO_BY_OID.set(info.arrayOid, {
      oid: info.arrayOid,
      name: `_${info.name}`,
      typlen: -1,
      category: "A",
      preferred: false,
      arrayOid: 0,
    });
  }
}

/** The pg_type facts for a type (or an OID). Throws XX000 for an OID this engine does not know. */
export function typeInfo(t: SqlType | number): TypeInfo {
  if (typeof t !== "number" && t.enum !== undefined) return { oid: t.oid, name: t.name, typlen: 4, category: "E", preferred: false, arrayOid: 0 };
  const oid = typeof t === "number" ? t : t.oid;
  const info = INFO_BY_OID.get(oid);
  if (info === undefined) throw new PgError("internal_error", `no type information for OID ${oid}`);
  return info;
}

/**
 * The OID alias types (regclass, regtype, regnamespace, …): an oid underneath, whose text form
 * is the name of the object it points at (see reg-text.ts).
 */
export const REG_TYPE_OIDS: ReadonlySet<number> = new Set([
  Oid.regproc, Oid.regprocedure, Oid.regoper, Oid.regoperator, Oid.regclass, Oid.regtype, Oid.regconfig, Oid.regnamespace, Oid.regrole,
]);

export function isRegType(oid: number): boolean {
  return REG_TYPE_OIDS.has(oid);
}

/**
 * The type whose representation a value of `oid` has: every reg* type is stored, compared,
 * hashed and encoded exactly as an oid, so those layers switch on this instead of listing them.
 */
export function physicalOid(oid: number): number {
  return REG_TYPE_OIDS.has(oid) ? Oid.oid : oid;
}

export function isKnownTypeOid(oid: number): boolean {
  return INFO_BY_OID.has(oid);
}

/** pg_type.typlen, as FieldDescription.dataTypeSize wants it. */
export function typlen(t: SqlType): number {
  return typeInfo(t).typlen;
}

export function typeCategory(t: SqlType): TypeCategory {
  return typeInfo(t).category;
}

export function isPreferredType(t: SqlType): boolean {
  return typeInfo(t).preferred;
}

function scalar(oid: number): SqlType {
  const info = typeInfo(oid);
  const vectorElem = VECTOR_ELEM.get(oid);
  if (vectorElem !== undefined) return Object.freeze({ oid, name: info.name, typmod: -1, elem: scalar(vectorElem) });
  return Object.freeze({ oid, name: info.name, typmod: -1 });
}

/**
 * int2vector and oidvector (pg_index.indkey, indclass, indoption; pg_proc.proargtypes): the
 * catalog's one-dimensional arrays that are subscripted from 0 and print as space-separated
 * numbers ("1 2"). They are arrays of int2 / oid here (elem set), so unnest(), = ANY() and casts
 * to int2[] / oid[] work as in Postgres; only text I/O and subscripts differ (isVectorType).
 */
const VECTOR_ELEM: ReadonlyMap<number, number> = new Map([[22, 21], [30, 26]]);

export function isVectorType(t: SqlType): boolean {
  return VECTOR_ELEM.has(t.oid);
}

/**
 * An array whose elements are themselves arrays would be a multidimensional array, which Warren
 * does not have (its arrays hold one dimension): 0A000, never a silent array of array texts.
 * int2vector / oidvector elements are fine (an int2vector[] is one-dimensional in Postgres too).
 */
export function refuseMultidimensional(elem: SqlType): void {
  if (elem.elem !== undefined && !VECTOR_ELEM.has(elem.oid)) {
    throw new PgError("feature_not_supported", "multidimensional arrays are not supported", { hint: "Use a one-dimensional array, or jsonb for nested lists." });
  }
}

/** The lower bound of an array type's subscripts: 0 for int2vector / oidvector, 1 for arrays. */
export function arrayLowerBound(t: SqlType): number {
  return VECTOR_ELEM.has(t.oid) ? 0 : 1;
}

/** The array type whose elements are `t` (keeping t's typmod, as Postgres does for columns). */
export function arrayOf(t: SqlType): SqlType {
  if (t.elem !== undefined) return t; // Postgres arrays of arrays are the same array type.
  const info = typeInfo(t);
  if (info.arrayOid === 0) {
    throw new PgError("undefined_object", `could not find array type for data type ${formatType(t)}`);
  }
  return Object.freeze({ oid: info.arrayOid, name: `_${info.name}`, typmod: t.typmod, elem: t });
}

/** Every type the engine knows, without typmod. `Types.unknown` is the type of an untyped literal. */
export const Types = {
  bool: scalar(Oid.bool),
  bytea: scalar(Oid.bytea),
  char: scalar(Oid.char),
  name: scalar(Oid.name),
  int8: scalar(Oid.int8),
  int2vector: scalar(Oid.int2vector),
  oidvector: scalar(Oid.oidvector),
  int2: scalar(Oid.int2),
  int4: scalar(Oid.int4),
  text: scalar(Oid.text),
  oid: scalar(Oid.oid),
  json: scalar(Oid.json),
  float4: scalar(Oid.float4),
  float8: scalar(Oid.float8),
  unknown: scalar(Oid.unknown),
  bpchar: scalar(Oid.bpchar),
  varchar: scalar(Oid.varchar),
  date: scalar(Oid.date),
  time: scalar(Oid.time),
  timetz: scalar(Oid.timetz),
  timestamp: scalar(Oid.timestamp),
  timestamptz: scalar(Oid.timestamptz),
  interval: scalar(Oid.interval),
  numeric: scalar(Oid.numeric),
  regproc: scalar(Oid.regproc),
  regprocedure: scalar(Oid.regprocedure),
  regoper: scalar(Oid.regoper),
  regoperator: scalar(Oid.regoperator),
  regclass: scalar(Oid.regclass),
  regtype: scalar(Oid.regtype),
  regconfig: scalar(Oid.regconfig),
  regnamespace: scalar(Oid.regnamespace),
  regrole: scalar(Oid.regrole),
  record: scalar(Oid.record),
  void: scalar(Oid.void),
  uuid: scalar(Oid.uuid),
  jsonb: scalar(Oid.jsonb),
} as const;

/** The SqlType for an OID (parameter types from Parse messages, catalog columns), typmod -1. */
export function typeFromOid(oid: number, typmod = -1): SqlType {
  const elemOid = ELEM_OF_ARRAY.get(oid);
  if (elemOid !== undefined) return arrayOf(withTypmod(scalar(elemOid), typmod));
  if (!INFO_BY_OID.has(oid)) {
    throw new PgError("undefined_object", `type with OID ${oid} does not exist`);
  }
  return withTypmod(scalar(oid), typmod);
}

/** The same type with another typmod (arrays: applied to the element too). */
export function withTypmod(t: SqlType, typmod: number): SqlType {
  if (t.typmod === typmod) return t;
  if (t.elem !== undefined) return arrayOf(withTypmod(t.elem, typmod));
  if (t.enum !== undefined) return t; // enums take no typmod
  return Object.freeze({ oid: t.oid, name: t.name, typmod });
}

/** A user-defined enum type (its labels come from the catalog's type descriptor). */
export function enumType(oid: number, name: string, labels: EnumLabels): SqlType {
  return Object.freeze({ oid, name, typmod: -1, enum: labels });
}

/** An expression as the catalog stores it (catalog/descriptors.ts StoredSql). */
export type StoredSqlLike = string | { readonly legacyTree: unknown };

/** A column type as the catalog stores it (catalog/descriptors.ts StoredType). */
export interface StoredTypeLike {
  oid: number;
  typmod: number;
  enum?: { name: string; schema: string; labels: string[]; sortOrders: number[] };
  domain?: { typeId: number; name: string; schema: string; notNull: boolean; checks: Array<{ name: string; expr: StoredSqlLike }>; defaultExpr: StoredSqlLike | null };
}

/** The SqlType of a stored column type: built-in by OID, or the enum its copy of labels describes. */
export function typeOfStored(s: StoredTypeLike): SqlType {
  if (s.domain !== undefined) {
    const { domain, ...base } = s;
    return Object.freeze({ ...typeOfStored(base), domain: { ...domain } });
  }
  if (s.enum !== undefined) return enumType(s.oid, s.enum.name, { schema: s.enum.schema, labels: s.enum.labels, sortOrders: s.enum.sortOrders });
  return typeFromOid(s.oid, s.typmod);
}

/** How a column of type `t` is stored in its table descriptor. */
export function storedTypeOf(t: SqlType): StoredTypeLike {
  if (t.domain !== undefined) {
    const { domain, ...base } = t;
    const d = domain as StoredTypeLike["domain"] & object;
    return { ...storedTypeOf(base as SqlType), domain: { typeId: d.typeId, name: d.name, schema: d.schema, notNull: d.notNull, checks: d.checks.map((c) => ({ ...c })), defaultExpr: d.defaultExpr } };
  }
  if (t.enum !== undefined) return { oid: t.oid, typmod: -1, enum: { name: t.name, schema: t.enum.schema, labels: [...t.enum.labels], sortOrders: [...t.enum.sortOrders] } };
  if (t.elem?.enum !== undefined) throw new PgError("feature_not_supported", `arrays of enum type ${t.elem.name} are not supported`);
  return { oid: t.oid, typmod: t.typmod };
}

/** The enumsortorder of `label` in enum type `t`; undefined when `t` has no such label. */
export function enumSortOrder(t: SqlType, label: string): number | undefined {
  const e = t.enum!;
  const i = e.labels.indexOf(label);
  return i < 0 ? undefined : e.sortOrders[i];
}

export function sameType(a: SqlType, b: SqlType): boolean {
  return a.oid === b.oid;
}

export function isArrayType(t: SqlType): t is SqlType & { readonly elem: SqlType } {
  return t.elem !== undefined;
}

// ---- typmod encoding (Postgres's VARHDRSZ = 4 offset for char types and numeric) ----

const VARHDRSZ = 4;
/** Postgres limits: numeric precision 1..1000, char length 1..10485760, timestamp precision 0..6. */
export const NUMERIC_PRECISION_MAX = 1000;
export const NUMERIC_SCALE_MIN = -1000;
export const NUMERIC_SCALE_MAX = 1000;
export const CHAR_LENGTH_MAX = 10485760;
export const TIMESTAMP_PRECISION_MAX = 6;

export function charTypmod(length: number): number {
  return length + VARHDRSZ;
}

/** The declared length of varchar(n)/char(n), or -1. */
export function charLength(t: SqlType): number {
  return t.typmod >= VARHDRSZ ? t.typmod - VARHDRSZ : -1;
}

export function numericTypmod(precision: number, scale: number): number {
  return ((precision << 16) | (scale & 0x7ff)) + VARHDRSZ;
}

/** numeric(p,s) → {precision, scale}; null for unconstrained numeric. */
export function numericPrecisionScale(typmod: number): { precision: number; scale: number } | null {
  if (typmod < VARHDRSZ) return null;
  const t = typmod - VARHDRSZ;
  const precision = (t >> 16) & 0xffff;
  // The scale is an 11-bit two's-complement field (Postgres 15 allows negative scales).
  const scale = ((t & 0x7ff) ^ 1024) - 1024;
  return { precision, scale };
}

/** Seconds precision of timestamp(p)/timestamptz(p)/interval(p), or -1 for the default (6). */
export function timePrecision(t: SqlType): number {
  return t.typmod >= 0 ? t.typmod & 0xffff : -1;
}

// ---- names ----

/** SQL spellings and pg_catalog names → base OID. Keys are lower case, single-spaced. */
const OID_BY_NAME: ReadonlyMap<string, number> = new Map<string, number>([
  ["bool", Oid.bool], ["boolean", Oid.bool],
  ["bytea", Oid.bytea],
  ["\"char\"", Oid.char],
  ["name", Oid.name],
  ["int8", Oid.int8], ["bigint", Oid.int8],
  ["int2", Oid.int2], ["smallint", Oid.int2],
  ["int2vector", Oid.int2vector], ["oidvector", Oid.oidvector],
  ["int4", Oid.int4], ["int", Oid.int4], ["integer", Oid.int4],
  ["text", Oid.text],
  ["oid", Oid.oid],
  ["json", Oid.json],
  ["float4", Oid.float4], ["real", Oid.float4],
  ["float8", Oid.float8], ["double precision", Oid.float8],
  ["unknown", Oid.unknown],
  ["bpchar", Oid.bpchar], ["char", Oid.bpchar], ["character", Oid.bpchar],
  ["varchar", Oid.varchar], ["character varying", Oid.varchar], ["char varying", Oid.varchar],
  ["date", Oid.date],
  ["time", Oid.time], ["time without time zone", Oid.time],
  ["timetz", Oid.timetz], ["time with time zone", Oid.timetz],
  ["timestamp", Oid.timestamp], ["timestamp without time zone", Oid.timestamp],
  ["timestamptz", Oid.timestamptz], ["timestamp with time zone", Oid.timestamptz],
  ["interval", Oid.interval],
  ["numeric", Oid.numeric], ["decimal", Oid.numeric], ["dec", Oid.numeric],
  ["regproc", Oid.regproc],
  ["regprocedure", Oid.regprocedure],
  ["regoper", Oid.regoper],
  ["regoperator", Oid.regoperator],
  ["regclass", Oid.regclass],
  ["regtype", Oid.regtype],
  ["regconfig", Oid.regconfig],
  ["regnamespace", Oid.regnamespace],
  ["regrole", Oid.regrole],
  ["record", Oid.record],
  ["void", Oid.void],
  ["uuid", Oid.uuid],
  ["jsonb", Oid.jsonb],
]);

/**
 * Resolves a type name as the parser gives it. `name` is either a string ("integer",
 * "character varying", "int4[]") or libpg-query's qualified name list (["pg_catalog", "int4"]);
 * `typmodArgs` are the integer arguments in parentheses (varchar(10) → [10], numeric(10,2) →
 * [10, 2]); `arrayDims` is the number of `[]` (Postgres treats all dimensions as one array type).
 * Throws 42704 for an unknown name and 22023 for bad modifiers, with Postgres's messages.
 */
export function typeFromName(name: string | readonly string[], typmodArgs: readonly number[] = [], arrayDims = 0): SqlType {
  let parts = typeof name === "string" ? [name] : [...name];
  if (parts.length === 2 && parts[0]!.toLowerCase() === "pg_catalog") parts = [parts[1]!];
  if (parts.length !== 1) {
    throw new PgError("undefined_object", `type "${parts.join(".")}" does not exist`);
  }
  let base = parts[0]!.trim().toLowerCase().replace(/\s+/g, " ");
  while (base.endsWith("[]")) {
    base = base.slice(0, -2).trimEnd();
    arrayDims++;
  }
  // A leading underscore names the array type in pg_type (_int4).
  if (base.startsWith("_") && OID_BY_NAME.has(base.slice(1))) {
    base = base.slice(1);
    arrayDims = Math.max(arrayDims, 1);
  }
  // Precision written inside the name ("float(24)") is handled by the parser; SQL's float(p):
  if (base === "float") base = typmodArgs.length > 0 && typmodArgs[0]! <= 24 ? "float4" : "float8";
  const oid = OID_BY_NAME.get(base);
  if (oid === undefined) throw new PgError("undefined_object", `type "${parts[0]}" does not exist`);
  let t = scalar(oid);
  if (base === "float4" || base === "float8") typmodArgs = [];
  if (typmodArgs.length > 0) t = withTypmod(t, typmodFor(t, typmodArgs));
  else if (base === "char" || base === "character") t = withTypmod(t, charTypmod(1)); // SQL: char = char(1)
  return arrayDims > 0 ? arrayOf(t) : t;
}

function typmodFor(t: SqlType, args: readonly number[]): number {
  const shown = formatType(t);
  const bad = (msg: string): PgError => new PgError("invalid_parameter_value", msg);
  switch (t.oid) {
    case Oid.varchar:
    case Oid.bpchar: {
      if (args.length !== 1) throw new PgError("syntax_error", `invalid type modifier`);
      const n = args[0]!;
      const label = t.oid === Oid.varchar ? "varchar" : "char";
      if (n < 1) throw bad(`length for type ${label} must be at least 1`);
      if (n > CHAR_LENGTH_MAX) throw bad(`length for type ${label} cannot exceed ${CHAR_LENGTH_MAX}`);
      return charTypmod(n);
    }
    case Oid.numeric: {
      if (args.length > 2) throw new PgError("syntax_error", `invalid NUMERIC type modifier`);
      const precision = args[0]!;
      const scale = args.length === 2 ? args[1]! : 0;
      if (precision < 1 || precision > NUMERIC_PRECISION_MAX) {
        throw bad(`NUMERIC precision ${precision} must be between 1 and ${NUMERIC_PRECISION_MAX}`);
      }
      if (scale < NUMERIC_SCALE_MIN || scale > NUMERIC_SCALE_MAX) {
        throw bad(`NUMERIC scale ${scale} must be between ${NUMERIC_SCALE_MIN} and ${NUMERIC_SCALE_MAX}`);
      }
      return numericTypmod(precision, scale);
    }
    case Oid.time:
    case Oid.timetz:
    case Oid.timestamp:
    case Oid.timestamptz:
    case Oid.interval: {
      if (args.length !== 1) throw new PgError("syntax_error", `invalid type modifier`);
      const p = args[0]!;
      if (p < 0) throw bad(`${shown.toUpperCase()}(${p}) precision must not be negative`);
      // Postgres warns and clamps precisions above 6.
      return Math.min(p, TIMESTAMP_PRECISION_MAX);
    }
    default:
      throw new PgError("syntax_error", `type modifier is not allowed for type "${t.name}"`);
  }
}

/** Postgres's format_type(): the name a person reads in messages and \d ("character varying(10)"). */
export function formatType(t: SqlType): string {
  if (VECTOR_ELEM.has(t.oid)) return t.name;
  if (t.elem !== undefined) return `${formatType(t.elem)}[]`;
  const mod = t.typmod;
  switch (t.oid) {
    case Oid.bool: return "boolean";
    case Oid.int2: return "smallint";
    case Oid.int4: return "integer";
    case Oid.int8: return "bigint";
    case Oid.float4: return "real";
    case Oid.float8: return "double precision";
    case Oid.char: return "\"char\"";
    case Oid.varchar: return mod >= VARHDRSZ ? `character varying(${mod - VARHDRSZ})` : "character varying";
    case Oid.bpchar: return mod >= VARHDRSZ ? `character(${mod - VARHDRSZ})` : "bpchar";
    case Oid.numeric: {
      const ps = numericPrecisionScale(mod);
      return ps === null ? "numeric" : `numeric(${ps.precision},${ps.scale})`;
    }
    case Oid.time: return mod >= 0 ? `time(${mod}) without time zone` : "time without time zone";
    case Oid.timetz: return mod >= 0 ? `time(${mod}) with time zone` : "time with time zone";
    case Oid.timestamp: return mod >= 0 ? `timestamp(${mod}) without time zone` : "timestamp without time zone";
    case Oid.timestamptz: return mod >= 0 ? `timestamp(${mod}) with time zone` : "timestamp with time zone";
    case Oid.interval: return mod >= 0 ? `interval(${mod & 0xffff})` : "interval";
    default: return t.name;
  }
}
