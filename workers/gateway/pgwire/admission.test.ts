// Every Request-Unit admission a connection takes is ended: an admission reserves one statement's
// estimate of the tenant's grant until its end function is called, so one that is never ended keeps
// that reservation for the life of the isolate, and enough of them refuse every statement with
// 53400 although the balance is full (found through psql's \copy: COPY paths dropped the function).
import { describe, expect, it } from "vitest";
import type { ConnectionQuota } from "./connection.ts";
import { openTestConnection } from "./test-connection.ts";
import { fe, summary } from "./wire-test-client.ts";

function countingQuota(): ConnectionQuota & { admitted: number; open: number } {
  const q = {
    admitted: 0,
    open: 0,
    admit: async () => {
      q.admitted++;
      q.open++;
      let ended = false;
      return () => {
        if (!ended) q.open--;
        ended = true;
      };
    },
    chargeEgress: () => {},
  };
  return q;
}

describe("RU admissions end with their statement", () => {
  it("simple and extended queries, COPY FROM STDIN (start and every CopyData), COPY TO, and failed statements", async () => {
    const quota = countingQuota();
    const h = await openTestConnection({ quota });
    await h.send(fe.Query("create table a (id int primary key, t text)"));
    expect(summary(await h.send(fe.Query("copy a from stdin")))).toEqual(["G 2"]);
    expect(summary(await h.send(fe.CopyData("1\tone\n"), fe.CopyData("2\ttwo\n"), fe.CopyDone()))).toEqual(["C COPY 2", "Z I"]);
    await h.send(fe.Query("copy a to stdout"));
    await h.send(fe.Query("copy (select * from a) to stdout (format csv)"));
    await h.send(fe.Query("select * from missing"));
    await h.send(fe.Query("copy a from stdin"), fe.CopyData("bad row\n"), fe.CopyDone());
    await h.send(fe.Parse("s", "select t from a where id = $1", [23]), fe.Bind("", "s", ["1"]), fe.Execute(""), fe.Sync());
    expect(quota.admitted).toBeGreaterThanOrEqual(9);
    expect(quota.open).toBe(0);
  });
});
