// Scalar functions for the common types (math, string), resolved by name and argument types.
// Local stand-in for the types engineer's resolveFunction (sql/functions/).
import { PgError } from "../../../../common/errors.ts";
import type { Datum } from "../types/datum.ts";
import { Decimal, Numeric } from "../types/numeric.ts";
import { formatType, Oid, type SqlType, Types } from "../types/type.ts";
import { isIntType, isNumericCategory, isStringType, numericRank } from "./casts.ts";
import type { Resolved } from "./operators.ts";

type Impl = (args: Datum[]) => Datum;

function num(t: SqlType): SqlType {
  return t.oid === Oid.unknown ? Types.numeric : { oid: t.oid, name: t.name, typmod: -1 };
}

function mathUnary(args: SqlType[], f: (x: number) => number, nf: ((n: Numeric) => Numeric) | null): Resolved {
  const t = args[0]!;
  if (nf !== null && (t.oid === Oid.numeric || isIntType(t) || t.oid === Oid.unknown)) {
    return { type: Types.numeric, argTypes: [Types.numeric], fn: ([a]) => nf(a as Numeric) };
  }
  return { type: Types.float8, argTypes: [Types.float8], fn: ([a]) => f(a as number) };
}

function textFn(arity: number, f: (...a: Datum[]) => Datum, ret: SqlType = Types.text, types?: SqlType[]): (args: SqlType[]) => Resolved | null {
  return (args) => {
    if (args.length !== arity) return null;
    return { type: ret, argTypes: types ?? args.map(() => Types.text), fn: (a) => f(...a) };
  };
}

function sqrtChecked(x: number): number {
  if (x < 0) throw new PgError("invalid_argument_for_power_function", "cannot take square root of a negative number");
  return Math.sqrt(x);
}

function lnChecked(x: number): number {
  if (x === 0) throw new PgError("invalid_argument_for_logarithm", "cannot take logarithm of zero");
  if (x < 0) throw new PgError("invalid_argument_for_logarithm", "cannot take logarithm of a negative number");
  return Math.log(x);
}

const FUNCTIONS: Record<string, (args: SqlType[]) => Resolved | null> = {
  abs: (args) => {
    if (args.length !== 1 || !(isNumericCategory(args[0]!) || args[0]!.oid === Oid.unknown)) return null;
    const t = num(args[0]!);
    return {
      type: t,
      argTypes: [t],
      fn: ([a]) => {
        if (typeof a === "bigint") {
          if (a === -(2n ** 63n)) throw new PgError("numeric_value_out_of_range", "bigint out of range");
          return a < 0n ? -a : a;
        }
        if (a instanceof Numeric) return a.abs();
        const r = Math.abs(a as number);
        if ((t.oid === Oid.int4 && r > 2147483647) || (t.oid === Oid.int2 && r > 32767)) throw new PgError("numeric_value_out_of_range", `${t.oid === Oid.int4 ? "integer" : "smallint"} out of range`);
        return r;
      },
    };
  },
  sign: (args) => (args.length === 1 ? mathUnary(args, Math.sign, (n) => Numeric.fromInteger(n.sign())) : null),
  sqrt: (args) => (args.length === 1 ? mathUnary(args, sqrtChecked, (n) => {
    if (n.sign() < 0) throw new PgError("invalid_argument_for_power_function", "cannot take square root of a negative number");
    return Numeric.of(n.value.sqrt(), Math.max(16, n.dscale));
  }) : null),
  exp: (args) => (args.length === 1 ? mathUnary(args, Math.exp, null) : null),
  ln: (args) => (args.length === 1 ? mathUnary(args, lnChecked, null) : null),
  log10: (args) => (args.length === 1 ? mathUnary(args, (x) => lnChecked(x) / Math.LN10, null) : null),
  log: (args) => (args.length === 1 ? mathUnary(args, (x) => lnChecked(x) / Math.LN10, null) : null),
  floor: (args) => (args.length === 1 ? mathUnary(args, Math.floor, (n) => Numeric.of(n.value.floor(), 0)) : null),
  ceil: (args) => (args.length === 1 ? mathUnary(args, Math.ceil, (n) => Numeric.of(n.value.ceil(), 0)) : null),
  ceiling: (args) => (args.length === 1 ? mathUnary(args, Math.ceil, (n) => Numeric.of(n.value.ceil(), 0)) : null),
  round: (args) => {
    if (args.length === 1) {
      return mathUnary(args, (x) => {
        // float8 round(): half away from zero? Postgres uses rint (half to even).
        const r = Math.round(x);
        return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
      }, (n) => n.round(0));
    }
    if (args.length === 2) return { type: Types.numeric, argTypes: [Types.numeric, Types.int4], fn: ([a, s]) => (a as Numeric).round(s as number) };
    return null;
  },
  trunc: (args) => {
    if (args.length === 1) return mathUnary(args, Math.trunc, (n) => n.trunc(0));
    if (args.length === 2) return { type: Types.numeric, argTypes: [Types.numeric, Types.int4], fn: ([a, s]) => (a as Numeric).trunc(s as number) };
    return null;
  },
  power: (args) => (args.length === 2 ? { type: Types.float8, argTypes: [Types.float8, Types.float8], fn: ([a, b]) => Math.pow(a as number, b as number) } : null),
  pow: (args) => (args.length === 2 ? { type: Types.float8, argTypes: [Types.float8, Types.float8], fn: ([a, b]) => Math.pow(a as number, b as number) } : null),
  mod: (args) => {
    if (args.length !== 2) return null;
    const t = numericRank(args[0]!) >= numericRank(args[1]!) ? num(args[0]!) : num(args[1]!);
    return {
      type: t,
      argTypes: [t, t],
      fn: ([a, b]) => {
        if (b === 0 || b === 0n || (b instanceof Numeric && b.sign() === 0)) throw new PgError("division_by_zero", "division by zero");
        if (a instanceof Numeric) return a.mod(b as Numeric);
        if (typeof a === "bigint") return a % (b as bigint);
        return (a as number) % (b as number) || 0;
      },
    };
  },
  pi: (args) => (args.length === 0 ? { type: Types.float8, argTypes: [], fn: () => Math.PI } : null),
  random: (args) => (args.length === 0 ? { type: Types.float8, argTypes: [], fn: () => Math.random() } : null),
  lower: textFn(1, (s) => (s as string).toLowerCase()),
  upper: textFn(1, (s) => (s as string).toUpperCase()),
  length: textFn(1, (s) => [...(s as string)].length, Types.int4),
  char_length: textFn(1, (s) => [...(s as string)].length, Types.int4),
  character_length: textFn(1, (s) => [...(s as string)].length, Types.int4),
  octet_length: textFn(1, (s) => new TextEncoder().encode(s as string).length, Types.int4),
  reverse: textFn(1, (s) => [...(s as string)].reverse().join("")),
  md5: textFn(1, () => {
    throw new PgError("feature_not_supported", "md5() is not supported yet");
  }),
  ascii: textFn(1, (s) => (s as string).codePointAt(0) ?? 0, Types.int4),
  chr: textFn(1, (n) => String.fromCodePoint(n as number), Types.text, [Types.int4]),
  repeat: textFn(2, (s, n) => (s as string).repeat(Math.max(0, n as number)), Types.text, [Types.text, Types.int4]),
  left: textFn(2, (s, n) => {
    const cs = [...(s as string)];
    const k = n as number;
    return (k >= 0 ? cs.slice(0, k) : cs.slice(0, Math.max(0, cs.length + k))).join("");
  }, Types.text, [Types.text, Types.int4]),
  right: textFn(2, (s, n) => {
    const cs = [...(s as string)];
    const k = n as number;
    return (k >= 0 ? cs.slice(Math.max(0, cs.length - k)) : cs.slice(-k)).join("");
  }, Types.text, [Types.text, Types.int4]),
  strpos: textFn(2, (s, sub) => [...(s as string).slice(0, Math.max(0, (s as string).indexOf(sub as string)))].length + ((s as string).includes(sub as string) ? 1 : 0), Types.int4),
  position: textFn(2, (sub, s) => ((s as string).includes(sub as string) ? [...(s as string).slice(0, (s as string).indexOf(sub as string))].length + 1 : 0), Types.int4),
  replace: textFn(3, (s, a, b) => ((a as string) === "" ? s : (s as string).split(a as string).join(b as string))),
  split_part: textFn(3, (s, d, n) => {
    const parts = (s as string).split(d as string);
    const i = n as number;
    if (i === 0) throw new PgError("invalid_parameter_value", "field position must not be zero");
    return (i > 0 ? parts[i - 1] : parts[parts.length + i]) ?? "";
  }, Types.text, [Types.text, Types.text, Types.int4]),
  starts_with: textFn(2, (s, p) => (s as string).startsWith(p as string), Types.bool),
  initcap: textFn(1, (s) => (s as string).toLowerCase().replace(/(^|[^a-z0-9])([a-z])/g, (_m, a: string, b: string) => a + b.toUpperCase())),
  substr: (args) => substrFn(args),
  substring: (args) => substrFn(args),
  btrim: (args) => trimFn(args, "both"),
  trim: (args) => trimFn(args, "both"),
  ltrim: (args) => trimFn(args, "leading"),
  rtrim: (args) => trimFn(args, "trailing"),
  lpad: (args) => padFn(args, true),
  rpad: (args) => padFn(args, false),
  to_hex: (args) => (args.length === 1 && isIntType(args[0]!) ? { type: Types.text, argTypes: [args[0]!], fn: ([a]) => BigInt.asUintN(args[0]!.oid === Oid.int8 ? 64 : 32, BigInt(a as number)).toString(16) } : null),
  gcd: (args) => (args.length === 2 ? { type: Types.int8, argTypes: [Types.int8, Types.int8], fn: ([a, b]) => {
    let x = (a as bigint) < 0n ? -(a as bigint) : (a as bigint);
    let y = (b as bigint) < 0n ? -(b as bigint) : (b as bigint);
    while (y !== 0n) [x, y] = [y, x % y];
    return x;
  } } : null),
  div: (args) => (args.length === 2 ? { type: Types.numeric, argTypes: [Types.numeric, Types.numeric], fn: ([a, b]) => {
    if ((b as Numeric).sign() === 0) throw new PgError("division_by_zero", "division by zero");
    return (a as Numeric).divTrunc(b as Numeric);
  } } : null),
  array_length: (args) => (args.length === 2 && args[0]!.elem !== undefined ? { type: Types.int4, argTypes: [args[0]!, Types.int4], fn: ([a, d]) => ((d as number) === 1 && (a as Datum[]).length > 0 ? (a as Datum[]).length : null) } : null),
  cardinality: (args) => (args.length === 1 && args[0]!.elem !== undefined ? { type: Types.int4, argTypes: [args[0]!], fn: ([a]) => (a as Datum[]).length } : null),
  num_nonnulls: () => null,
};

function substrFn(args: SqlType[]): Resolved | null {
  if (args.length < 2 || args.length > 3 || !isStringType(args[0]!)) return null;
  return {
    type: Types.text,
    argTypes: args.length === 2 ? [Types.text, Types.int4] : [Types.text, Types.int4, Types.int4],
    fn: ([s, from, len]) => {
      const cs = [...(s as string)];
      const start = from as number;
      if (len === undefined) return cs.slice(Math.max(0, start - 1)).join("");
      if ((len as number) < 0) throw new PgError("substring_error", "negative substring length not allowed");
      const end = start + (len as number);
      return cs.slice(Math.max(0, start - 1), Math.max(0, end - 1)).join("");
    },
  };
}

function trimFn(args: SqlType[], where: "both" | "leading" | "trailing"): Resolved | null {
  if (args.length < 1 || args.length > 2) return null;
  return {
    type: Types.text,
    argTypes: args.map(() => Types.text),
    fn: ([s, chars]) => {
      const set = new Set([...((chars as string | undefined) ?? " ")]);
      const cs = [...(s as string)];
      let a = 0;
      let b = cs.length;
      if (where !== "trailing") while (a < b && set.has(cs[a]!)) a++;
      if (where !== "leading") while (b > a && set.has(cs[b - 1]!)) b--;
      return cs.slice(a, b).join("");
    },
  };
}

function padFn(args: SqlType[], left: boolean): Resolved | null {
  if (args.length < 2 || args.length > 3) return null;
  return {
    type: Types.text,
    argTypes: args.length === 2 ? [Types.text, Types.int4] : [Types.text, Types.int4, Types.text],
    fn: ([s, n, fill]) => {
      const cs = [...(s as string)];
      const len = n as number;
      if (len <= cs.length) return cs.slice(0, Math.max(0, len)).join("");
      const f = [...((fill as string | undefined) ?? " ")];
      if (f.length === 0) return s ?? null;
      const pad: string[] = [];
      while (pad.length < len - cs.length) pad.push(f[pad.length % f.length]!);
      return left ? pad.join("") + cs.join("") : cs.join("") + pad.join("");
    },
  };
}

export function hasFunction(name: string): boolean {
  return Object.hasOwn(FUNCTIONS, name);
}

export function resolveFunction(name: string, args: SqlType[]): Resolved {
  const f = Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
  const r = f?.(args) ?? null;
  if (r === null) {
    throw new PgError("undefined_function", `function ${name}(${args.map(formatType).join(", ")}) does not exist`, {
      hint: "No function matches the given name and argument types. You might need to add explicit type casts.",
    });
  }
  return r;
}

export { Decimal };
