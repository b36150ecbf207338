import { describe, expect, it } from "vitest";
import { PgError } from "../../common/errors.ts";
import { limits } from "./limits.ts";
import {
  identifyTenant,
  parseConnectionString,
  tenantFromDatabase,
  tenantFromHost,
  tenantFromOptions,
  tenantFromUser,
} from "./tenant-identity.ts";

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof PgError ? err.code : "not-a-PgError";
  }
  return undefined;
}

describe("the four forms", () => {
  it("options: --cluster=T among other options", () => {
    expect(tenantFromOptions("--cluster=acme")).toBe("acme");
    expect(tenantFromOptions("-c search_path=x --cluster=acme")).toBe("acme");
    expect(tenantFromOptions("-c statement_timeout=5")).toBeNull();
    expect(tenantFromOptions(undefined)).toBeNull();
  });

  it("user: NAME.T takes the suffix after the last dot", () => {
    expect(tenantFromUser("app.acme")).toEqual({ tenant: "acme", user: "app" });
    expect(tenantFromUser("first.last.acme")).toEqual({ tenant: "acme", user: "first.last" });
    expect(tenantFromUser("app")).toBeNull();
    expect(tenantFromUser(".acme")).toBeNull();
    expect(tenantFromUser("app.ACME")).toBeNull(); // not a tenant name: an ordinary user name
  });

  it("database: T.DB takes the prefix before the first dot", () => {
    expect(tenantFromDatabase("acme.defaultdb")).toEqual({ tenant: "acme", database: "defaultdb" });
    expect(tenantFromDatabase("acme.my.db")).toEqual({ tenant: "acme", database: "my.db" });
    expect(tenantFromDatabase("defaultdb")).toBeNull();
    expect(tenantFromDatabase("acme.")).toBeNull();
  });

  it("host: the first label when more labels follow, never an IP", () => {
    expect(tenantFromHost("acme.localhost")).toBe("acme");
    expect(tenantFromHost("acme.localhost:8787")).toBe("acme");
    expect(tenantFromHost("ACME.db.example.com.")).toBe("acme");
    expect(tenantFromHost("localhost")).toBeNull();
    expect(tenantFromHost("127.0.0.1:8787")).toBeNull();
    expect(tenantFromHost("[::1]:8787")).toBeNull();
    expect(tenantFromHost("1bad.example.com")).toBeNull();
  });
});

describe("identifyTenant", () => {
  it("uses options, user, database in that order and strips the tenant from user and database", () => {
    expect(identifyTenant({ options: "--cluster=acme", user: "app", database: "db" })).toEqual({
      tenant: "acme",
      source: "options",
      user: "app",
      database: "db",
    });
    expect(identifyTenant({ user: "app.acme", database: "acme.db" })).toEqual({
      tenant: "acme",
      source: "user",
      user: "app",
      database: "db",
    });
  });

  it("uses the host only when no explicit form names a tenant", () => {
    expect(identifyTenant({ user: "app", database: "db", host: "acme.example.com" }).source).toBe("host");
    expect(identifyTenant({ user: "app.beta", host: "acme.example.com" }).tenant).toBe("beta");
  });

  it("refuses disagreeing explicit forms (28000), no tenant (3D000), a bad --cluster name (3D000)", () => {
    expect(code(() => identifyTenant({ user: "app.acme", database: "beta.db" }))).toBe("28000");
    expect(code(() => identifyTenant({ options: "--cluster=acme", user: "app.beta" }))).toBe("28000");
    expect(code(() => identifyTenant({ user: "app", database: "db", host: "localhost" }))).toBe("3D000");
    expect(code(() => identifyTenant({ options: "--cluster=Not_Valid" }))).toBe("3D000");
  });
});

describe("parseConnectionString (Neon-Connection-String)", () => {
  it("reads user, password, host, database and options, percent-decoded", () => {
    expect(parseConnectionString("postgresql://app.acme:p%40ss%2Fword@acme.localhost:5432/defaultdb?options=--cluster%3Dacme")).toEqual({
      user: "app.acme",
      password: "p@ss/word",
      host: "acme.localhost",
      database: "defaultdb",
      options: "--cluster=acme",
    });
    expect(parseConnectionString("postgres://u@h/d")).toMatchObject({ user: "u", password: undefined, database: "d" });
  });

  it("refuses other schemes, garbage and oversized strings", () => {
    expect(code(() => parseConnectionString("mysql://u:p@h/d"))).toBe("08P01");
    expect(code(() => parseConnectionString("postgresql://u:p@[bad/d"))).toBe("08P01");
    expect(code(() => parseConnectionString("postgresql://u:%E0%A4%A@h/d"))).toBe("08P01");
    expect(code(() => parseConnectionString("postgresql://u:p@h/" + "d".repeat(5000)))).toBe("54000");
  });

  it("takes a string of exactly connectionStringBytesMax; one byte more is 54000", () => {
    const head = "postgresql://u:p@h/";
    const atLimit = head + "d".repeat(limits.connectionStringBytesMax - head.length);
    expect(parseConnectionString(atLimit).database).toBe("d".repeat(limits.connectionStringBytesMax - head.length));
    expect(code(() => parseConnectionString(atLimit + "d"))).toBe("54000");
  });
});
