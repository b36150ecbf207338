// Integer settings with units (statement_timeout, work_mem, …), read and shown as PostgreSQL 15's
// GUC code does (guc.c parse_int / convert_to_base_unit / _ShowOption):
//   - a number (decimals and exponents allowed), optional spaces, an optional unit from the
//     setting's table (case-sensitive), optional spaces; no unit means the base unit;
//   - a fractional value is rounded to the next smaller unit, then to the base unit, half to even
//     (C's rint), so '1.5s' is 1500 ms and '0.5' ms is 0;
//   - SHOW prints the largest unit that divides the value exactly ('3000' → 3s, '1500ms'), and a
//     value of 0 without a unit.
import { PgError } from "../../../common/errors.ts";

export interface UnitSpec {
  /** Units, largest first, with their size in the base unit. */
  readonly units: ReadonlyArray<readonly [string, number]>;
  /** The base unit as out-of-range messages name it ("ms", "kB"). */
  readonly base: string;
  readonly min: number;
  readonly max: number;
}

const INT_MAX = 2_147_483_647;

/** Time settings: base unit milliseconds. */
export const TIME_MS: UnitSpec = {
  units: [["d", 86_400_000], ["h", 3_600_000], ["min", 60_000], ["s", 1000], ["ms", 1], ["us", 1 / 1000]],
  base: "ms",
  min: 0,
  max: INT_MAX,
};

/** Memory settings: base unit kilobytes (work_mem's minimum is 64 kB). */
export const MEMORY_KB: UnitSpec = {
  units: [["TB", 1024 ** 3], ["GB", 1024 ** 2], ["MB", 1024], ["kB", 1], ["B", 1 / 1024]],
  base: "kB",
  min: 64,
  max: INT_MAX,
};

/** C's rint: to the nearest integer, halves to even. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function hintFor(spec: UnitSpec): string {
  // Postgres lists them smallest first: "us", "ms", "s", "min", "h", and "d".
  const list = spec.units.map(([u]) => `"${u}"`).reverse();
  return `Valid units for this parameter are ${list.slice(0, -1).join(", ")}, and ${list[list.length - 1]}.`;
}

/** The value of `text` in the spec's base unit; 22023 as Postgres words it when it is not one. */
export function parseUnitSetting(name: string, text: string, spec: UnitSpec): number {
  const invalid = (hint?: string): PgError => new PgError("invalid_parameter_value", `invalid value for parameter "${name}": "${text}"`, hint === undefined ? {} : { hint });
  const m = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$/.exec(text);
  if (m === null) throw invalid();
  let value = Number(m[1]);
  const unit = m[2]!;
  if (!Number.isFinite(value)) throw invalid("Value exceeds integer range.");
  if (unit !== "") {
    const i = spec.units.findIndex(([u]) => u === unit);
    if (i < 0) throw invalid(hintFor(spec));
    value *= spec.units[i]![1];
    // A fractional value is rounded to a multiple of the next smaller unit first ("1.5s", "30.1GB").
    const smaller = spec.units[i + 1];
    if (smaller !== undefined) value = rint(value / smaller[1]) * smaller[1];
  }
  value = rint(value);
  if (value > INT_MAX || value < -INT_MAX - 1) throw invalid("Value exceeds integer range.");
  if (value < spec.min || value > spec.max) {
    throw new PgError("invalid_parameter_value", `${value} ${spec.base} is outside the valid range for parameter "${name}" (${spec.min} .. ${spec.max})`);
  }
  return value;
}

/** SHOW's text of a value in base units: the largest unit dividing it exactly; 0 bare. */
export function formatUnitSetting(value: number, spec: UnitSpec): string {
  if (value <= 0) return String(value);
  for (const [u, size] of spec.units) {
    if (size <= 1 || value % size === 0) return `${value / size}${u}`;
  }
  return String(value);
}
