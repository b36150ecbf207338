// The response side of Neon's HTTP API:
//
//   200 {"command","rowCount","rows","fields":[{name,dataTypeID,tableID,columnID,dataTypeSize,
//        dataTypeModifier,format}],"rowAsArray"}            one query
//   200 {"results":[…one of the above per query…]}          a batch
//   400 {"message","code","severity","detail"?,"hint"?,"position"?,…}   any Postgres error
//
// rows are arrays (Neon-Array-Mode: true, what the driver always asks for) or objects keyed by
// column name. Values are Postgres text (Neon-Raw-Text-Output: true, what the driver always asks
// for); without that header, numbers, booleans and JSON are sent as JSON values, as Neon does.
import { PgError, toPgError } from "../../../common/errors.ts";
import type { FieldDescription, StatementResult } from "../sql/result.ts";

export interface NeonResult {
  command: string;
  rowCount: number | null;
  rows: unknown[];
  fields: FieldDescription[];
  rowAsArray: boolean;
}

const OID = { bool: 16, int2: 21, int4: 23, oid: 26, float4: 700, float8: 701, json: 114, jsonb: 3802 } as const;

/** A text value as a JSON value, for Neon-Raw-Text-Output: false. */
function typedValue(text: string, typeOid: number): unknown {
  switch (typeOid) {
    case OID.bool:
      return text === "t" || text === "true";
    case OID.int2:
    case OID.int4:
    case OID.oid:
      return Number(text);
    case OID.float4:
    case OID.float8: {
      // JSON has no NaN/Infinity: those stay text, as they would print in Postgres.
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    case OID.json:
    case OID.jsonb:
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    default:
      // int8 and numeric stay strings: JSON numbers would lose precision.
      return text;
  }
}

export function formatResult(r: StatementResult, opts: { arrayMode: boolean; rawTextOutput: boolean }): NeonResult {
  const convert = (row: Array<string | null>): Array<unknown> =>
    opts.rawTextOutput ? row : row.map((v, i) => (v === null ? null : typedValue(v, r.fields[i]?.dataTypeID ?? 0)));
  const rows = r.rows.map((row) => {
    const values = convert(row);
    if (opts.arrayMode) return values;
    const obj: Record<string, unknown> = {};
    r.fields.forEach((f, i) => {
      obj[f.name] = values[i];
    });
    return obj;
  });
  return { command: r.command, rowCount: r.rowCount, rows, fields: r.fields, rowAsArray: opts.arrayMode };
}

/** A Postgres error as Neon's HTTP API returns it (the driver copies these fields onto NeonDbError). */
export function formatError(err: unknown): Record<string, unknown> {
  const e: PgError = toPgError(err);
  return { severity: "ERROR", ...e.toJSON() };
}
