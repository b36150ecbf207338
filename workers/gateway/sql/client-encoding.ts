// Encoding names as PostgreSQL 15 reads them (client_encoding, COPY … ENCODING), and which of them
// Warren converts. The database encoding is always UTF8.
//
// Converted: UTF8, SQL_ASCII, and every single-byte encoding Postgres has a UTF8 conversion for
// (LATIN1–LATIN10, ISO_8859_5–8, WIN866, WIN874, WIN1250–WIN1258, KOI8R, KOI8U); their tables are
// pgwire/encoding/single-byte-tables.ts, generated from PostgreSQL 15's own conversions.
// Refused with 0A000 (Postgres knows them, Warren does not convert them): the multi-byte ones
// (EUC_*, SJIS, SHIFT_JIS_2004, BIG5, GBK, GB18030, UHC, JOHAB) and MULE_INTERNAL.
import { PgError } from "../../../common/errors.ts";

/** Postgres's pg_encname_tbl, cleaned as clean_encoding_name does (lower case, letters and digits) → canonical name. */
const ENCODING_NAMES: Readonly<Record<string, string>> = {
  abc: "WIN1258", alt: "WIN866", big5: "BIG5", euccn: "EUC_CN", eucjis2004: "EUC_JIS_2004", eucjp: "EUC_JP",
  euckr: "EUC_KR", euctw: "EUC_TW", gb18030: "GB18030", gbk: "GBK", iso88591: "LATIN1", iso885910: "LATIN6",
  iso885913: "LATIN7", iso885914: "LATIN8", iso885915: "LATIN9", iso885916: "LATIN10", iso88592: "LATIN2",
  iso88593: "LATIN3", iso88594: "LATIN4", iso88595: "ISO_8859_5", iso88596: "ISO_8859_6", iso88597: "ISO_8859_7",
  iso88598: "ISO_8859_8", iso88599: "LATIN5", johab: "JOHAB", koi8: "KOI8R", koi8r: "KOI8R", koi8u: "KOI8U",
  latin1: "LATIN1", latin2: "LATIN2", latin3: "LATIN3", latin4: "LATIN4", latin5: "LATIN5", latin6: "LATIN6",
  latin7: "LATIN7", latin8: "LATIN8", latin9: "LATIN9", latin10: "LATIN10", mskanji: "SJIS", muleinternal: "MULE_INTERNAL",
  shiftjis: "SJIS", shiftjis2004: "SHIFT_JIS_2004", sjis: "SJIS", sqlascii: "SQL_ASCII", tcvn: "WIN1258",
  tcvn5712: "WIN1258", uhc: "UHC", unicode: "UTF8", utf8: "UTF8", vscii: "WIN1258", win: "WIN1251",
  win1250: "WIN1250", win1251: "WIN1251", win1252: "WIN1252", win1253: "WIN1253", win1254: "WIN1254",
  win1255: "WIN1255", win1256: "WIN1256", win1257: "WIN1257", win1258: "WIN1258", win866: "WIN866", win874: "WIN874",
  win932: "SJIS", win936: "GBK", win949: "UHC", win950: "BIG5", windows1250: "WIN1250", windows1251: "WIN1251",
  windows1252: "WIN1252", windows1253: "WIN1253", windows1254: "WIN1254", windows1255: "WIN1255",
  windows1256: "WIN1256", windows1257: "WIN1257", windows1258: "WIN1258", windows866: "WIN866",
  windows874: "WIN874", windows932: "SJIS", windows936: "GBK", windows949: "UHC", windows950: "BIG5",
};

/** The single-byte encodings Warren converts to and from UTF8 (each ASCII in its lower half). */
export const SINGLE_BYTE_ENCODINGS = [
  "LATIN1", "LATIN2", "LATIN3", "LATIN4", "LATIN5", "LATIN6", "LATIN7", "LATIN8", "LATIN9", "LATIN10",
  "ISO_8859_5", "ISO_8859_6", "ISO_8859_7", "ISO_8859_8",
  "WIN866", "WIN874", "WIN1250", "WIN1251", "WIN1252", "WIN1253", "WIN1254", "WIN1255", "WIN1256", "WIN1257", "WIN1258",
  "KOI8R", "KOI8U",
] as const;

export type SingleByteEncoding = (typeof SINGLE_BYTE_ENCODINGS)[number];

/** Every encoding a client may use with Warren. */
export type ClientEncodingName = "UTF8" | "SQL_ASCII" | SingleByteEncoding;

const SUPPORTED = new Set<string>(["UTF8", "SQL_ASCII", ...SINGLE_BYTE_ENCODINGS]);

/** The canonical name of an encoding Postgres knows, or undefined (pg_char_to_encoding). */
export function pgEncodingName(name: string): string | undefined {
  return ENCODING_NAMES[name.toLowerCase().replace(/[^a-z0-9]/g, "")];
}

export function isSingleByteEncoding(name: string): name is SingleByteEncoding {
  return (SINGLE_BYTE_ENCODINGS as readonly string[]).includes(name);
}

/**
 * A known encoding name → the canonical name if Warren converts it; 0A000 naming what is
 * supported if it does not (`what` says where it was asked for: "client_encoding", "COPY ENCODING").
 * Names Postgres does not know are the caller's error to word (they differ by context).
 */
export function supportedEncoding(canonical: string, what: string, position?: number): ClientEncodingName {
  if (SUPPORTED.has(canonical)) return canonical as ClientEncodingName;
  throw new PgError("feature_not_supported", `${what} '${canonical}' is not supported`, {
    hint: `Warren converts UTF8, SQL_ASCII and the single-byte encodings (${SINGLE_BYTE_ENCODINGS.join(", ")}); multi-byte encodings other than UTF8 are not converted.`,
    position,
  });
}
