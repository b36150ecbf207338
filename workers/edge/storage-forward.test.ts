// Each storage bound of the edge (workers/edge/limits.ts) at its edge, with a fake fleet: nodes
// that answer, refuse connections or never answer (a SIGSTOPped leaseholder), and a directory
// whose leader the test moves. The limits are scaled down so the test takes milliseconds; the
// assertions are about outcomes and counts, never about how fast the machine is.
import { describe, expect, it } from "vitest";
import { decodeResponse, encodeRequest, encodeResponse } from "../../common/kv-protocol/codec.ts";
import { DEFAULT_LIMITS as storageLimits } from "../../storage-node/limits.ts";
import { replicationLimits } from "../../storage-node/replication/limits.ts";
import { limits } from "./limits.ts";
import type { StorageRoute } from "./shard-routes.ts";
import { forwardWithRetries, type ForwardDeps, type ForwardLimits } from "./storage-forward.ts";

const small: ForwardLimits = {
  storageUnavailableWaitMs: 300,
  storageRouteCheckMs: 5,
  storageAttemptMsMax: 150,
  storageCommitAttemptMsMax: 400,
  storageMovesPerRequestMax: 3,
  storageRetryDelayMsMin: 5,
  storageRetryDelayMsMax: 40,
  kvResponseBytesMax: 1024,
};

const key = new Uint8Array([0x81, 1, 2]);
const txnId = new Uint8Array(16);
const read = encodeRequest({ type: "read", readTs: null, ops: [{ op: "get", key }] });
const txnWrite = encodeRequest({ type: "txnWrite", txnId, readTs: 5n, writes: [{ op: "put", key, value: key }] });
const commit = encodeRequest({ type: "commit", txnId, readTs: 5n, readSpans: [], writes: [{ op: "put", key, value: key }] });
const writeBatch = encodeRequest({ type: "batch", reads: [], writes: [{ op: "put", key, value: key }] });
const okFrame = encodeResponse({ type: "abort" });

type Behaviour = "answer" | "refuse" | "hang" | ((attempt: number) => Response | "refuse" | "hang");

/** A shard of nodes n1…n5 whose leader is `leader` at `epoch`; every post is recorded. */
function fakeFleet(behaviours: Record<string, Behaviour>) {
  const f = {
    leader: "n1",
    epoch: 1,
    posts: [] as string[],
    /** Called on every post to node `n`: lets a test move the leader while a request waits. */
    onPost: (_node: string) => {},
    tokenRefusals: 0,
    routeOf: (): StorageRoute => ({ url: `http://${f.leader}/v1/kv`, shardId: 0, epoch: f.epoch, node: f.leader }),
    deps: undefined as unknown as ForwardDeps,
  };
  const attempts = new Map<string, number>();
  f.deps = {
    route: async () => f.routeOf(),
    movedFrom: async (route) => (f.epoch > route.epoch && f.leader !== route.node ? f.routeOf() : undefined),
    post: (url, signal) => {
      const node = new URL(url).host;
      f.posts.push(node);
      const n = attempts.get(node) ?? 0;
      attempts.set(node, n + 1);
      f.onPost(node);
      const b = behaviours[node] ?? "refuse";
      const what = typeof b === "function" ? b(n) : b === "answer" ? new Response(okFrame) : b;
      if (what === "refuse") return Promise.reject(new TypeError("fetch failed: ECONNREFUSED"));
      if (what === "hang") return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      return Promise.resolve(what);
    },
    tokenRefused: () => f.tokenRefusals++,
  };
  return f;
}

const codeOf = (bytes: Uint8Array) => {
  const res = decodeResponse(bytes);
  return res.type === "error" ? res.error.code : res.type;
};

describe("storageUnavailableWaitMs and the retry pauses", () => {
  it("re-sends a retry-safe request to a refusing node until the wait is over, then 57P01 (unavailable)", async () => {
    const f = fakeFleet({ n1: "refuse" });
    const out = decodeResponse(await forwardWithRetries(read, f.deps, small));
    expect(out).toMatchObject({ type: "error", error: { code: "unavailable" } });
    expect(out.type === "error" && out.error.message).toMatch(/storageUnavailableWaitMs/);
    // Pauses of 5, 10, 20, 40, 40, … ms: no more attempts than fit the wait (a loaded machine's
    // late timers can only make fewer), and more than one.
    let fit = 0;
    for (let total = 0; total + Math.min(40, 5 * 2 ** fit) <= small.storageUnavailableWaitMs; fit++) total += Math.min(40, 5 * 2 ** fit);
    expect(f.posts.length).toBeGreaterThanOrEqual(2);
    expect(f.posts.length).toBeLessThanOrEqual(fit + 1);
  });

  it("re-sends a commit (idempotent on its transaction id) but, giving up, says 08006: an attempt may have applied it", async () => {
    const f = fakeFleet({ n1: "refuse" });
    const out = decodeResponse(await forwardWithRetries(commit, f.deps, small));
    expect(out).toMatchObject({ type: "error", error: { code: "outcome_unknown" } });
    expect(out.type === "error" && out.error.message).toMatch(/storageUnavailableWaitMs/);
    expect(f.posts.length).toBeGreaterThanOrEqual(2);
  });

  it("finds a node that comes back within the wait", async () => {
    const f = fakeFleet({ n1: (n) => (n < 3 ? "refuse" : new Response(okFrame)) });
    expect(codeOf(await forwardWithRetries(read, f.deps, small))).toBe("abort");
    expect(f.posts.length).toBe(4);
  });

  it("never re-sends a single-shot write (08006: it may have applied) nor an open transaction's request (40001: it cannot commit now)", async () => {
    const f = fakeFleet({ n1: "refuse" });
    expect(codeOf(await forwardWithRetries(writeBatch, f.deps, small))).toBe("outcome_unknown");
    expect(codeOf(await forwardWithRetries(txnWrite, f.deps, small))).toBe("transaction_aborted");
    expect(f.posts.length).toBe(2);
  });
});

describe("storageRouteCheckMs: a request waiting on a leaseholder that was replaced leaves it", () => {
  it("re-sends a retry-safe request to the new leaseholder at once", async () => {
    const f = fakeFleet({ n1: "hang", n2: "answer" });
    f.onPost = (node) => {
      if (node === "n1") setTimeout(() => ((f.leader = "n2"), (f.epoch = 2)), 20);
    };
    expect(codeOf(await forwardWithRetries(read, f.deps, small))).toBe("abort");
    expect(f.posts).toEqual(["n1", "n2"]);
  });

  it("gives an open transaction's request 40001 and a single-shot write 08006, sending neither again", async () => {
    for (const [request, code] of [
      [txnWrite, "transaction_aborted"],
      [writeBatch, "outcome_unknown"],
    ] as const) {
      const f = fakeFleet({ n1: "hang", n2: "answer" });
      f.onPost = () => setTimeout(() => ((f.leader = "n2"), (f.epoch = 2)), 20);
      const out = decodeResponse(await forwardWithRetries(request, f.deps, small));
      expect(out).toMatchObject({ type: "error", error: { code } });
      expect(f.posts).toEqual(["n1"]);
    }
  });

  it("a new epoch led by the same node is not a move: the request keeps waiting (and ends at storageAttemptMsMax)", async () => {
    const f = fakeFleet({ n1: "hang" });
    f.onPost = () => setTimeout(() => (f.epoch = 2), 10);
    expect(codeOf(await forwardWithRetries(read, f.deps, small))).toBe("unavailable");
    expect(f.posts).toEqual(["n1"]);
  });
});

describe("storageAttemptMsMax: no attempt waits longer", () => {
  it("ends a silent node's attempt: 57P01 for a retry-safe request, 08006 otherwise", async () => {
    for (const [request, code, bound] of [
      [read, "unavailable", "storageAttemptMsMax"],
      [commit, "outcome_unknown", "storageCommitAttemptMsMax"],
      [txnWrite, "transaction_aborted", "storageAttemptMsMax"],
      [writeBatch, "outcome_unknown", "storageAttemptMsMax"],
    ] as const) {
      const f = fakeFleet({ n1: "hang" });
      const started = Date.now();
      const out = decodeResponse(await forwardWithRetries(request, f.deps, small));
      expect(out).toMatchObject({ type: "error", error: { code } });
      expect(out.type === "error" && out.error.message).toMatch(new RegExp(`\\(${bound}\\)`));
      expect(Date.now() - started).toBeGreaterThanOrEqual(small[bound] - 5);
    }
  });

  it("a commit still working past storageAttemptMsMax gets its answer (its work grows with its intents)", async () => {
    const f = fakeFleet({ n1: () => "hang" });
    f.deps.post = (_url, signal) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => resolve(new Response(encodeResponse({ type: "commit", commitTs: 9n }))), small.storageAttemptMsMax + 100);
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          reject(signal.reason);
        });
      });
    expect(decodeResponse(await forwardWithRetries(commit, f.deps, small))).toEqual({ type: "commit", commitTs: 9n });
  });
});

describe("storageMovesPerRequestMax: leaseholder changes one request follows", () => {
  /** Every node hangs; the directory moves to the next node each time a node is posted to, until `moves` moves. */
  function flapping(moves: number) {
    const f = fakeFleet({ n1: "hang", n2: "hang", n3: "hang", n4: "hang", n5: "hang" });
    const order = ["n1", "n2", "n3", "n4", "n5"];
    f.onPost = (node) => {
      const i = order.indexOf(node);
      if (i < moves) setTimeout(() => ((f.leader = order[i + 1]!), (f.epoch = i + 2)), 10);
    };
    return f;
  }

  it(`follows ${small.storageMovesPerRequestMax} changes and gets the answer`, async () => {
    const f = flapping(small.storageMovesPerRequestMax);
    // The last leader answers.
    const deps = { ...f.deps, post: (url: string, signal: AbortSignal) => (new URL(url).host === `n${small.storageMovesPerRequestMax + 1}` ? (f.posts.push("last"), Promise.resolve(new Response(okFrame))) : f.deps.post(url, signal)) };
    expect(codeOf(await forwardWithRetries(read, deps, small))).toBe("abort");
    expect(f.posts.length).toBe(small.storageMovesPerRequestMax + 1);
  });

  it(`gives up with 57P01 at change ${small.storageMovesPerRequestMax + 1}`, async () => {
    const f = flapping(small.storageMovesPerRequestMax + 1);
    const out = decodeResponse(await forwardWithRetries(read, f.deps, small));
    expect(out).toMatchObject({ type: "error", error: { code: "unavailable" } });
    expect(out.type === "error" && out.error.message).toMatch(/storageMovesPerRequestMax/);
    expect(f.posts.length).toBe(small.storageMovesPerRequestMax + 1);
  });
});

describe("kvResponseBytesMax: the answer is read up to the bound and no further", () => {
  const frameOf = (n: number) => {
    const b = new Uint8Array(n);
    b[0] = 0x57;
    return b;
  };
  const streamed = (bytes: Uint8Array) =>
    new Response(
      new ReadableStream({
        start(c) {
          for (let at = 0; at < bytes.length; at += 100) c.enqueue(bytes.slice(at, at + 100));
          c.close();
        },
      }),
    );

  it("passes an answer of exactly the bound, with or without Content-Length", async () => {
    for (const make of [(b: Uint8Array) => new Response(b), streamed]) {
      const f = fakeFleet({ n1: () => make(frameOf(small.kvResponseBytesMax)) });
      expect((await forwardWithRetries(read, f.deps, small)).byteLength).toBe(small.kvResponseBytesMax);
    }
  });

  it("refuses one byte more (internal: not a storage node's answer), and does not send again", async () => {
    for (const make of [(b: Uint8Array) => new Response(b), streamed]) {
      const f = fakeFleet({ n1: () => make(frameOf(small.kvResponseBytesMax + 1)) });
      const out = decodeResponse(await forwardWithRetries(read, f.deps, small));
      expect(out).toMatchObject({ type: "error", error: { code: "internal" } });
      expect(out.type === "error" && out.error.message).toMatch(/kvResponseBytesMax/);
      expect(f.posts.length).toBe(1);
    }
  });

  it("is above what a storage node can answer (16 MiB of keys and values plus framing)", () => {
    expect(limits.kvResponseBytesMax).toBeGreaterThanOrEqual(16 * 1024 * 1024 + 2 * 1024 * 1024);
  });
});

describe("answers that are not KvResponse frames", () => {
  it("mints a new token once after a 401, then passes the node's answer on", async () => {
    const f = fakeFleet({ n1: (n) => (n === 0 ? new Response("no", { status: 401 }) : new Response(okFrame)) });
    expect(codeOf(await forwardWithRetries(read, f.deps, small))).toBe("abort");
    expect(f.tokenRefusals).toBe(1);
  });

  it("reports a proxy's page as internal", async () => {
    const f = fakeFleet({ n1: () => new Response("<html>502</html>", { status: 502 }) });
    expect(codeOf(await forwardWithRetries(read, f.deps, small))).toBe("internal");
  });
});

describe("the edge's storage limits agree with the parts they wait on", () => {
  it("storageAttemptMsMax outlasts the longest wait a live node imposes (lock, rate limit, admission)", () => {
    expect(limits.storageAttemptMsMax).toBeGreaterThan(storageLimits.lockWaitMsMax + storageLimits.rateLimitWaitMsMax + storageLimits.admissionWaitMsMax);
  });

  it("storageRouteCheckMs adds less than a failover takes, and storageUnavailableWaitMs covers a failover", () => {
    expect(limits.storageRouteCheckMs).toBeLessThan(replicationLimits.failoverAfterMs);
    // A new leaseholder serves once a backup noticed the silence (the old lease has run out by
    // then) and it started its KV service: up to 3.7 s more was measured on a loaded machine.
    expect(limits.storageUnavailableWaitMs).toBeGreaterThan(Math.max(replicationLimits.failoverAfterMs, replicationLimits.leaseMs) + 3_700 + limits.storageRetryDelayMsMax);
  });

  it("storageMovesPerRequestMax follows at least one failover, and the retry pauses fit many attempts in the wait", () => {
    expect(limits.storageMovesPerRequestMax).toBeGreaterThanOrEqual(1);
    expect(limits.storageRetryDelayMsMin).toBeLessThan(limits.storageRetryDelayMsMax);
    expect(limits.storageRetryDelayMsMax * 5).toBeLessThanOrEqual(limits.storageUnavailableWaitMs);
  });
});

describe("tenant_moved (421): the tenant moved between shards", () => {
  const moved = () => new Response(encodeResponse({ type: "error", error: { code: "tenant_moved", message: "moved" } }), { status: 421 });

  it("re-sends any request, a write batch included (nothing was applied), reading the placement again, until the new shard answers", async () => {
    const f = fakeFleet({ src: () => moved(), dst: "answer" });
    let placementReads = 0;
    let flipped = false;
    f.deps.route = async (_failed, tenantMoved) => {
      if (tenantMoved) placementReads++;
      // The directory switches the placement after the third refusal (the move's fence is over).
      if (placementReads >= 3) flipped = true;
      const node = flipped ? "dst" : "src";
      return { url: `http://${node}/v1/kv`, shardId: flipped ? 2 : 1, epoch: 1, node };
    };
    expect(codeOf(await forwardWithRetries(writeBatch, f.deps, small))).toBe("abort");
    expect(f.posts).toEqual(["src", "src", "src", "dst"]);
    expect(placementReads).toBe(3);
  });

  it("goes straight to the shard a refusal names (warren-tenant-shard), without reading the placement", async () => {
    const f = fakeFleet({
      src: () => new Response(encodeResponse({ type: "error", error: { code: "tenant_moved", message: "moved" } }), { status: 421, headers: { "warren-tenant-shard": "2" } }),
      dst: "answer",
    });
    const asked: Array<number | undefined> = [];
    f.deps.route = async (_failed, tenantMoved) => {
      asked.push(tenantMoved?.toShard);
      const node = tenantMoved?.toShard === 2 ? "dst" : "src";
      return { url: `http://${node}/v1/kv`, shardId: tenantMoved?.toShard ?? 1, epoch: 1, node };
    };
    expect(codeOf(await forwardWithRetries(writeBatch, f.deps, small))).toBe("abort");
    expect(f.posts).toEqual(["src", "dst"]);
    expect(asked).toEqual([undefined, 2]);
  });

  it("answers 40001 (transaction_aborted) inside an open transaction, and gives up after storageUnavailableWaitMs otherwise", async () => {
    const f = fakeFleet({ n1: () => moved() });
    expect(codeOf(await forwardWithRetries(txnWrite, f.deps, small))).toBe("transaction_aborted");
    expect(f.posts).toEqual(["n1"]);
    const g = fakeFleet({ n1: () => moved() });
    expect(codeOf(await forwardWithRetries(read, g.deps, small))).toBe("unavailable");
    expect(g.posts.length).toBeGreaterThan(2);
    // A commit given up on stays "unknown" to the client, as for any commit the edge stops trying.
    expect(codeOf(await forwardWithRetries(commit, fakeFleet({ n1: () => moved() }).deps, small))).toBe("outcome_unknown");
  });
});
