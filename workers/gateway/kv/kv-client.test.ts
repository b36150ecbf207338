import { describe, expect, it } from "vitest";
import type { KvErrorName } from "../../../common/kv-protocol/messages.ts";
import { kvErrorToPgError } from "./kv-client.ts";

describe("kvErrorToPgError", () => {
  it("maps storage errors to the SQLSTATEs clients act on", () => {
    const cases: Array<[KvErrorName, string]> = [
      ["conflict", "40001"],
      ["snapshot_too_old", "40001"],
      ["transaction_expired", "40001"],
      ["rate_limited", "53400"],
      ["overloaded", "53400"],
      ["limit_exceeded", "54000"],
      ["internal", "XX000"],
    ];
    for (const [code, sqlstate] of cases) expect(kvErrorToPgError({ code, message: "m" }).code).toBe(sqlstate);
    expect(kvErrorToPgError({ code: "conflict", message: "m" }).hint).toBe("retry the transaction");
  });
});
