// A deterministic simulation of one shard: replicas (replica.ts) over a network that delays,
// drops, duplicates and reorders messages, the configuration manager's real decision functions
// (common/fleet/directory-state.ts) behind the same delays, node clocks that run at slightly
// different rates, and faults: kill -9 (the log and the applied state survive, memory does not),
// SIGSTOP (nothing runs, messages wait), and a cut (the node reaches nobody, the directory included).
// With snapshot limits, logs are truncated and a replica that needs a dropped entry installs a
// snapshot of its primary's applied state, which takes simulated time and fails (the receiver
// restarts empty, as a real node does: snapshot-install.ts) if either end dies or is cut meanwhile.
// Everything runs on one fake clock, so a seed replays exactly. Used by replica.test.ts.
import {
  addReplica, createShard, currentConfig, emptyDirectory, promote, removeReplica, renewLease, requestJoin,
  type DirectoryResult, type DirectoryState,
} from "../../common/fleet/directory-state.ts";
import type { NodeId } from "../../common/fleet/shard-config.ts";
import type { Clock } from "./clock.ts";
import type { ReplicationLimits } from "./limits.ts";
import { MemoryLog } from "./log.ts";
import type { ReplicationMessage } from "./messages.ts";
import { Replica, type ConfigManager, type SnapshotInstaller } from "./replica.ts";

/** A small seeded generator (mulberry32): the simulation must replay from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimNode {
  readonly id: NodeId;
  /** Survive a kill (they are on disk in a real node); wipe() loses them. */
  log: MemoryLog;
  applied: string[];
  replica: Replica;
  alive: boolean;
  paused: boolean;
  cut: boolean;
  /** This node's clock runs at `rate` times the simulation's. */
  readonly rate: number;
  /** Snapshots this node is sending (or sent lately): the entry each is at, held until untilMs. */
  holds: Array<{ seq: number; untilMs: number }>;
  snapshotsInstalled: number;
  snapshotsFailed: number;
}

export interface Ack {
  node: NodeId;
  id: string;
  seq: number;
  atMs: number;
  /** The acknowledging replica's epoch at that moment. */
  epoch: number;
}

export interface NetworkFaults {
  dropRate: number;
  duplicateRate: number;
  delayMsMax: number;
}

const SHARD = 1;
const TICK_MS = 20;

export class ShardSimulation {
  nowMs = 0;
  readonly directory: DirectoryState = emptyDirectory();
  /** The directory's primary over time: [fromMs, primary, epoch]. */
  readonly primaryHistory: Array<[number, NodeId, number]> = [];
  readonly acks: Ack[] = [];
  readonly nodes = new Map<NodeId, SimNode>();
  readonly random: () => number;
  private readonly events: Array<{ at: number; n: number; fn: () => void }> = [];
  private eventSeq = 0;
  private proposals = 0;
  /**
   * Set: each leg of a directory call (request, answer) takes this many ms instead of the network's
   * delay — a slow configuration manager (the FleetDirectory sharing a CPU-starved workerd).
   */
  directoryLegMs: (() => number) | undefined;
  /** Set: every replica's notable events (epoch changes, refusals), with the simulated time. */
  trace: ((line: string) => void) | undefined;
  /** One-way links that lose every message, "from>to". */
  readonly blockedLinks = new Set<string>();

  readonly ids: NodeId[];
  readonly net: NetworkFaults;

  /** Set: logs are truncated and replicas install snapshots (with these limits). */
  readonly snapshotLimits: Partial<ReplicationLimits> | undefined;

  constructor(seed: number, ids: NodeId[], net: NetworkFaults = { dropRate: 0.02, duplicateRate: 0.02, delayMsMax: 8 }, snapshotLimits?: Partial<ReplicationLimits>) {
    this.ids = ids;
    this.net = net;
    this.snapshotLimits = snapshotLimits;
    this.random = seededRandom(seed);
    createShard(this.directory, SHARD, ids);
    this.recordPrimary();
    for (const id of ids) {
      const node: SimNode = {
        id,
        log: new MemoryLog(),
        applied: [],
        replica: undefined as unknown as Replica,
        alive: true,
        paused: false,
        cut: false,
        rate: 0.99 + 0.02 * this.random(),
        holds: [],
        snapshotsInstalled: 0,
        snapshotsFailed: 0,
      };
      node.replica = this.newReplica(node);
      this.nodes.set(id, node);
      this.scheduleTick(node, node.replica);
    }
  }

  at(delayMs: number, fn: () => void): void {
    const ev = { at: this.nowMs + delayMs, n: this.eventSeq++, fn };
    // Sorted insert from the back: most events are near the end.
    let i = this.events.length;
    while (i > 0 && (this.events[i - 1]!.at > ev.at || (this.events[i - 1]!.at === ev.at && this.events[i - 1]!.n > ev.n))) i--;
    this.events.splice(i, 0, ev);
  }

  /** Runs events until `untilMs`, letting promise callbacks run between instants. */
  async runUntil(untilMs: number): Promise<void> {
    while (this.events.length > 0 && this.events[0]!.at <= untilMs) {
      const t = this.events[0]!.at;
      this.nowMs = t;
      while (this.events.length > 0 && this.events[0]!.at === t) this.events.shift()!.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.nowMs = untilMs;
  }

  private clockOf(node: SimNode): Clock {
    return { nowMs: () => this.nowMs * node.rate };
  }

  private newReplica(node: SimNode): Replica {
    return new Replica({
      id: node.id,
      shardId: SHARD,
      clock: this.clockOf(node),
      log: node.log,
      appliedSeq: node.applied.length,
      directory: this.directoryFor(node),
      send: (to, m) => this.send(node, to, m),
      apply: (entries) => {
        for (const e of entries) node.applied.push(e.payload === null ? "" : new TextDecoder().decode(e.payload));
      },
      ...(this.snapshotLimits ? { limits: this.snapshotLimits, snapshots: this.installerFor(node) } : {}),
      onEvent: (line) => this.trace?.(`${this.nowMs} ${line}`),
    });
  }

  /**
   * Snapshots as a real node takes them: the sender's applied state at the start of the transfer
   * (one read transaction), the receiver's store cleared at the start and replaced at the end; a
   * transfer lasts 50–450 ms; if either end dies, restarts or is cut meanwhile, the receiver's
   * install fails and it restarts with an empty store.
   */
  private installerFor(node: SimNode): SnapshotInstaller {
    return {
      sendingAt: () => {
        node.holds = node.holds.filter((h) => h.untilMs >= this.nowMs);
        return node.holds.length === 0 ? undefined : Math.min(...node.holds.map((h) => h.seq));
      },
      install: (from) =>
        new Promise((resolve, reject) => {
          const sender = this.nodes.get(from);
          const receiverIncarnation = node.replica;
          if (!sender || !sender.alive || sender.paused || sender.cut || node.cut) {
            this.at(this.delay(), () => reject(new Error(`${from} unreachable`))); // nothing changed here
            return;
          }
          const senderIncarnation = sender.replica;
          const seq = sender.applied.length;
          const epoch = sender.log.epochAt(seq);
          if (epoch === undefined) throw new Error(`sim: ${from} applied ${seq} but its log does not know that entry's epoch`);
          const state = sender.applied.slice();
          const hold = { seq, untilMs: Infinity };
          sender.holds.push(hold);
          // The install marker, then the store cleared (the highest epoch stays).
          node.log.reset(0, 0);
          node.applied = [];
          this.at(50 + Math.floor(this.random() * 400), () => {
            hold.untilMs = this.nowMs + 2_000;
            if (node.replica !== receiverIncarnation || !node.alive) return; // died mid-install: its restart starts empty
            if (sender.replica !== senderIncarnation || !sender.alive || sender.cut || node.cut) {
              node.snapshotsFailed++;
              reject(new Error(`the stream from ${from} broke`));
              // A real node exits here and comes back with its store wiped (it already is).
              this.at(0, () => {
                this.kill(node.id);
                this.restart(node.id);
              });
              return;
            }
            node.applied = state;
            node.log.reset(seq, epoch);
            node.snapshotsInstalled++;
            resolve({ seq });
          });
        }),
    };
  }

  private scheduleTick(node: SimNode, replica: Replica): void {
    this.at(TICK_MS, () => {
      if (node.replica !== replica || !node.alive) return; // killed: the new incarnation ticks itself
      if (!node.paused) replica.tick();
      this.scheduleTick(node, replica);
    });
  }

  private delay(): number {
    return 1 + Math.floor(this.random() * this.net.delayMsMax);
  }

  private send(from: SimNode, to: NodeId, m: ReplicationMessage): void {
    const target = this.nodes.get(to);
    if (!target || from.cut || target.cut || this.blockedLinks.has(`${from.id}>${to}`)) return;
    const copies = this.random() < this.net.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (this.random() < this.net.dropRate) continue;
      const deliver = (): void => {
        if (!target.alive || target.cut) return;
        if (target.paused) return this.at(5, deliver); // a stopped process reads its socket later
        target.replica.onMessage(m);
      };
      this.at(this.delay(), deliver);
    }
  }

  /** The directory behind the same network: a cut node reaches it neither. */
  private directoryFor(node: SimNode): ConfigManager {
    const call = (op: () => DirectoryResult): Promise<DirectoryResult> =>
      new Promise((resolve, reject) => {
        if (node.cut) return this.at(this.delay() * 20, () => reject(new Error("directory unreachable")));
        const leg = (): number => this.directoryLegMs?.() ?? this.delay();
        this.at(leg(), () => {
          const before = currentConfig(this.directory, SHARD)!;
          const result = structuredClone(op());
          const after = currentConfig(this.directory, SHARD)!;
          if (after.primary !== before.primary || after.epoch !== before.epoch) this.recordPrimary();
          this.at(leg(), () => (node.cut ? reject(new Error("directory unreachable")) : resolve(result)));
        });
      });
    return {
      current: (s) => call(() => ({ ok: true, config: currentConfig(this.directory, s)! })).then((r) => r.config),
      renewLease: (s, n, e, leaseMs) => call(() => renewLease(this.directory, s, n, e, this.nowMs, leaseMs)),
      promote: (s, n, e, leaseMs) => call(() => promote(this.directory, s, n, e, this.nowMs, leaseMs)),
      removeReplica: (s, p, e, v) => call(() => removeReplica(this.directory, s, p, e, v, this.nowMs)),
      requestJoin: (s, n) => call(() => requestJoin(this.directory, s, n)),
      addReplica: (s, p, e, l) => call(() => addReplica(this.directory, s, p, e, l, this.nowMs)),
    };
  }

  private recordPrimary(): void {
    const c = currentConfig(this.directory, SHARD)!;
    this.primaryHistory.push([this.nowMs, c.primary, c.epoch]);
  }

  /** The directory's primary at `ms`. */
  primaryAt(ms: number): NodeId {
    let p = this.primaryHistory[0]![1];
    for (const [from, id] of this.primaryHistory) if (from <= ms) p = id;
    return p;
  }

  directoryPrimary(): NodeId {
    return currentConfig(this.directory, SHARD)!.primary;
  }

  /** A client write sent to whichever node believes it holds the lease (none: nothing is sent). */
  propose(): void {
    const holder = [...this.nodes.values()].find((n) => n.alive && !n.paused && n.replica.isLeaseholder());
    if (!holder) return;
    const id = `w${++this.proposals}`;
    const replica = holder.replica;
    replica.propose(new TextEncoder().encode(id)).then(
      (seq) => this.acks.push({ node: holder.id, id, seq, atMs: this.nowMs, epoch: replica.epoch }),
      () => {}, // not acknowledged: may or may not be in the log
    );
  }

  /** Proposals every `everyMs` until `untilMs`. */
  startClients(everyMs: number, untilMs: number): void {
    const loop = (): void => {
      if (this.nowMs >= untilMs) return;
      this.propose();
      this.at(everyMs, loop);
    };
    this.at(everyMs, loop);
  }

  kill(id: NodeId): void {
    const n = this.nodes.get(id)!;
    n.replica.stop();
    n.alive = false;
  }

  restart(id: NodeId): void {
    const n = this.nodes.get(id)!;
    n.alive = true;
    n.paused = false;
    n.replica = this.newReplica(n);
    this.scheduleTick(n, n.replica);
  }

  /** The node's disk is lost: its log and applied state are gone (call while it is dead). */
  wipe(id: NodeId): void {
    const n = this.nodes.get(id)!;
    if (n.alive) throw new Error("wipe a dead node");
    n.log = new MemoryLog();
    n.applied = [];
  }

  setPaused(id: NodeId, paused: boolean): void {
    this.nodes.get(id)!.paused = paused;
  }

  /** Cuts (or heals) the link between two nodes, both ways; each still reaches the directory. */
  setLinkCut(a: NodeId, b: NodeId, cut: boolean): void {
    for (const key of [`${a}>${b}`, `${b}>${a}`]) {
      if (cut) this.blockedLinks.add(key);
      else this.blockedLinks.delete(key);
    }
  }

  setCut(id: NodeId, cut: boolean): void {
    this.nodes.get(id)!.cut = cut;
  }
}
