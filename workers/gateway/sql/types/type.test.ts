import { describe, expect, it } from "vitest";
import {
  Oid, Types, arrayOf, charLength, formatType, numericPrecisionScale, typeFromName, typeFromOid, typlen,
} from "./type.ts";

describe("type model", () => {
  it("has Postgres OIDs and array OIDs", () => {
    const pairs: Array<[keyof typeof Types, number, number]> = [
      ["bool", 16, 1000], ["bytea", 17, 1001], ["int8", 20, 1016], ["int2", 21, 1005], ["int4", 23, 1007],
      ["text", 25, 1009], ["oid", 26, 1028], ["json", 114, 199], ["float4", 700, 1021], ["float8", 701, 1022],
      ["varchar", 1043, 1015], ["bpchar", 1042, 1014], ["date", 1082, 1182], ["timestamp", 1114, 1115],
      ["timestamptz", 1184, 1185], ["interval", 1186, 1187], ["numeric", 1700, 1231], ["uuid", 2950, 2951],
      ["jsonb", 3802, 3807],
    ];
    for (const [name, oid, arrayOid] of pairs) {
      expect(Types[name].oid).toBe(oid);
      expect(arrayOf(Types[name]).oid).toBe(arrayOid);
      expect(typeFromOid(arrayOid).elem?.oid).toBe(oid);
    }
  });

  it("reports typlen as pg_type does", () => {
    expect(typlen(Types.int4)).toBe(4);
    expect(typlen(Types.int8)).toBe(8);
    expect(typlen(Types.text)).toBe(-1);
    expect(typlen(Types.interval)).toBe(16);
    expect(typlen(Types.uuid)).toBe(16);
    expect(typlen(arrayOf(Types.int4))).toBe(-1);
    expect(typlen(Types.unknown)).toBe(-2);
  });

  it("resolves parser spellings", () => {
    expect(typeFromName("integer").oid).toBe(Oid.int4);
    expect(typeFromName(["pg_catalog", "int4"]).oid).toBe(Oid.int4);
    expect(typeFromName("double precision").oid).toBe(Oid.float8);
    expect(typeFromName("timestamp with time zone").oid).toBe(Oid.timestamptz);
    expect(typeFromName("text[]").oid).toBe(1009);
    expect(typeFromName("int", [], 2).oid).toBe(1007);
    expect(typeFromName(["pg_catalog", "varchar"], [10]).typmod).toBe(14);
    expect(charLength(typeFromName("char"))).toBe(1);
    expect(charLength(typeFromName("bpchar"))).toBe(-1);
    expect(numericPrecisionScale(typeFromName("decimal", [10, 2]).typmod)).toEqual({ precision: 10, scale: 2 });
    expect(numericPrecisionScale(typeFromName("numeric", [5]).typmod)).toEqual({ precision: 5, scale: 0 });
    expect(numericPrecisionScale(typeFromName("numeric", [5, -2]).typmod)).toEqual({ precision: 5, scale: -2 });
    expect(typeFromName("float", [10]).oid).toBe(Oid.float4);
    expect(typeFromName("_int4").oid).toBe(1007);
  });

  it("rejects unknown names and bad modifiers with Postgres codes", () => {
    expect(() => typeFromName("nosuchtype")).toThrow(expect.objectContaining({ code: "42704" }));
    expect(() => typeFromName("varchar", [0])).toThrow(expect.objectContaining({ code: "22023" }));
    expect(() => typeFromName("numeric", [1001])).toThrow(expect.objectContaining({ code: "22023" }));
  });

  it("formats type names like format_type()", () => {
    expect(formatType(typeFromName("varchar", [10]))).toBe("character varying(10)");
    expect(formatType(typeFromName("numeric", [10, 2]))).toBe("numeric(10,2)");
    expect(formatType(arrayOf(Types.int4))).toBe("integer[]");
    expect(formatType(Types.timestamptz)).toBe("timestamp with time zone");
    expect(formatType(typeFromName("char", [3]))).toBe("character(3)");
  });
});
