// reg* text I/O without a catalog (numbers, '-', regtype's static names) and with one (names
// resolved through the RegCatalog the statement supplies). Expected values from PostgreSQL 15.
import { describe, expect, it } from "vitest";
import { PgError } from "../../../../common/errors.ts";
import { formatReg, parseReg, type RegCatalog } from "./reg-text.ts";
import { formatText, parseText } from "./text-io.ts";
import { UTC } from "./timezone.ts";
import { Oid, Types, typeFromName } from "./type.ts";

const fake: RegCatalog = {
  lookup: (typeOid, name) => {
    if (typeOid === Oid.regclass && name === "pg_class") return 1259;
    throw new PgError("undefined_table", `relation "${name}" does not exist`);
  },
  nameOf: (typeOid, oid) => (typeOid === Oid.regclass && oid === 1259 ? "pg_class" : null),
};

describe("reg* text I/O", () => {
  it("reads '-' and digits as OIDs and prints InvalidOid as '-'", () => {
    expect(parseReg("-", Oid.regclass, undefined)).toBe(0);
    expect(parseReg("16404", Oid.regnamespace, undefined)).toBe(16404);
    expect(formatReg(0, Oid.regclass, undefined)).toBe("-");
  });

  it("resolves regtype names without a catalog", () => {
    expect(parseReg("integer", Oid.regtype, undefined)).toBe(23);
    expect(parseReg("int4[]", Oid.regtype, undefined)).toBe(1007);
    expect(parseReg("character varying", Oid.regtype, undefined)).toBe(1043);
    expect(formatReg(1043, Oid.regtype, undefined)).toBe("character varying");
    expect(() => parseReg("nosuchtype", Oid.regtype, undefined)).toThrow(/type "nosuchtype" does not exist/);
  });

  it("asks the catalog for other names, and prints unknown OIDs as numbers", () => {
    expect(parseText("pg_class", Types.regclass, { timeZone: UTC, transactionTimestamp: 0n, regCatalog: fake })).toBe(1259);
    expect(formatText(1259, Types.regclass, { timeZone: UTC, regCatalog: fake })).toBe("pg_class");
    expect(formatText(99999, Types.regclass, { timeZone: UTC, regCatalog: fake })).toBe("99999");
    expect(() => parseReg("nope", Oid.regclass, fake)).toThrow(/relation "nope" does not exist/);
    expect(() => parseReg("pg_class", Oid.regclass, undefined)).toThrow(PgError);
  });

  it("knows every reg type by name", () => {
    for (const n of ["regproc", "regprocedure", "regoper", "regoperator", "regclass", "regtype", "regconfig", "regnamespace", "regrole"]) {
      expect(typeFromName(n).name).toBe(n);
    }
  });
});
