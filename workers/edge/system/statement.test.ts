// The system cluster's statements: every form parses to its operation; options map to the admin
// API's fields; anything else is 42601 (an unknown option 22023) and nothing runs.
import { describe, expect, it } from "vitest";
import { PgError } from "../../../common/errors.ts";
import { parseSystemStatement } from "./statement.ts";

describe("parseSystemStatement", () => {
  it.each([
    ["create virtual cluster acme", { kind: "create", name: "acme", options: {} }],
    [
      "CREATE VIRTUAL CLUSTER \"acme-2\" WITH password = 'it''s secret', ru_per_second = 50, burst = 1e3, spend_limit = NULL, at_limit = 'refuse', max_connections = 5, allow = '10.0.0.0/8, ::1/128';",
      { kind: "create", name: "acme-2", options: { password: "it's secret", ruPerSecond: 50, burstRu: 1000, spendLimitRu: null, atSpendLimit: "refuse", maxConnections: 5, allowedCidrs: ["10.0.0.0/8", "::1/128"] } },
    ],
    ["ALTER VIRTUAL CLUSTER acme SET ru_per_second = -1", { kind: "alter", name: "acme", options: { ruPerSecond: -1 } }],
    ["alter virtual cluster acme set allow = 'any'", { kind: "alter", name: "acme", options: { allowedCidrs: [] } }],
    ["ALTER VIRTUAL CLUSTER acme SUSPEND", { kind: "state", name: "acme", state: "suspended" }],
    ["ALTER VIRTUAL CLUSTER acme RESUME -- comment", { kind: "state", name: "acme", state: "active" }],
    ["SHOW VIRTUAL CLUSTERS", { kind: "list" }],
    ["SHOW VIRTUAL CLUSTER Acme WITH USAGE", { kind: "show", name: "acme", usage: true }],
    ["DROP VIRTUAL CLUSTER IF EXISTS acme", { kind: "drop", name: "acme", ifExists: true }],
  ])("%s", (sql, want) => {
    expect(parseSystemStatement(sql)).toEqual(want);
  });

  it.each([
    ["SELECT 1", "42601"],
    ["CREATE VIRTUAL CLUSTERS acme", "42601"],
    ["SHOW VIRTUAL CLUSTERS extra", "42601"],
    ["ALTER VIRTUAL CLUSTER acme SET ru_per_second 5", "42601"],
    ["ALTER VIRTUAL CLUSTER acme SET colour = 'red'", "22023"],
    ["ALTER VIRTUAL CLUSTER acme SET ru_per_second = 'fast'", "22023"],
    ["CREATE VIRTUAL CLUSTER 'acme", "42601"],
  ])("refuses %s with %s", (sql, code) => {
    try {
      parseSystemStatement(sql);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PgError);
      expect((err as PgError).code).toBe(code);
    }
  });

  it("treats an empty query as nothing", () => {
    expect(parseSystemStatement("  ;")).toBe(null);
  });
});
