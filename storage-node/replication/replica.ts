// One replica of one shard: primary/backup replication with an external configuration manager, as
// in PacificA (README.md). The primary orders entries in its log and sends them to every replica;
// an entry commits once every replica of the current configuration holds it durably, and only then,
// and only while the primary's lease runs, is it acknowledged. Configuration changes (a new primary,
// a replica removed or added) happen only in the FleetDirectory, as compare-and-set on the epoch.
//
// The class has no timers and no sockets: its owner calls tick() periodically and onMessage() for
// each message, and gives it a clock, a send function and the directory. That is what lets the
// simulation (replica.test.ts) run whole failovers on a fake clock and a faulty network.
import type { DirectoryResult } from "../../common/fleet/directory-state.ts";
import type { NodeId, ShardConfig } from "../../common/fleet/shard-config.ts";
import type { Clock } from "./clock.ts";
import type { LogEntry, ReplicationLog } from "./log.ts";
import { replicationLimits, type ReplicationLimits } from "./limits.ts";
import type { Ack, Prepare, ReplicationMessage, SnapshotNeeded } from "./messages.ts";

/** The configuration manager as a replica sees it (the FleetDirectory, over HTTP in a node). */
export interface ConfigManager {
  current(shardId: number): Promise<ShardConfig | undefined>;
  /** `leaseMs`: the lease asked for (Replica.leaseToAskMs; the directory bounds it). */
  renewLease(shardId: number, node: NodeId, epoch: number, leaseMs: number): Promise<DirectoryResult>;
  promote(shardId: number, node: NodeId, seenEpoch: number, leaseMs: number): Promise<DirectoryResult>;
  removeReplica(shardId: number, byPrimary: NodeId, epoch: number, victim: NodeId): Promise<DirectoryResult>;
  requestJoin(shardId: number, node: NodeId): Promise<DirectoryResult>;
  addReplica(shardId: number, byPrimary: NodeId, epoch: number, learner: NodeId): Promise<DirectoryResult>;
}

/**
 * How a replica gets a snapshot of another's state (README.md, "Snapshots and log truncation").
 * Without it the replica keeps its whole log, and catches others up from it (the simulation,
 * log-node.ts).
 */
export interface SnapshotInstaller {
  /**
   * Replaces this replica's state and log with a snapshot pulled from `from` (the primary that
   * asked), durably; resolves with the entry the snapshot is at, which is now the log's base and
   * the apply point. A failed install must leave nothing half-done behind (the node exits, and a
   * restart starts over from an empty store: snapshot-install.ts).
   */
  install(from: NodeId): Promise<{ seq: number }>;
  /**
   * The lowest entry a snapshot this node is sending (or sent a moment ago) is at, if any: the log
   * keeps every entry after it, or the replica installing it would need another snapshot as soon as
   * it finished (seen under load: five snapshots in a row while 4 writers outran a 20-entry log).
   */
  sendingAt(): number | undefined;
}

export interface ReplicaOptions {
  readonly id: NodeId;
  readonly shardId: number;
  readonly clock: Clock;
  readonly log: ReplicationLog;
  readonly directory: ConfigManager;
  readonly send: (to: NodeId, message: ReplicationMessage) => void;
  /** Called with committed entries, in order, each exactly once, on every replica (the primary included). */
  readonly apply: (entries: readonly LogEntry[]) => void;
  /** Entries already applied by the state machine before this start (its durable apply point). */
  readonly appliedSeq?: number;
  readonly limits?: Partial<ReplicationLimits>;
  /** With it, the log's applied prefix is dropped and far-behind replicas get a snapshot. */
  readonly snapshots?: SnapshotInstaller;
  /** One line per notable event (epoch changes, removals). */
  readonly onEvent?: (line: string) => void;
}

/** A write this replica will not acknowledge: it is not the leaseholder (the caller finds the new one). */
export class NotLeaseholder extends Error {
  readonly config: ShardConfig | undefined;
  /** True when the entry may still commit under a later primary (it was sent out): the outcome is unknown. */
  readonly outcomeUnknown: boolean;
  constructor(message: string, config: ShardConfig | undefined, outcomeUnknown: boolean) {
    super(message);
    this.name = "NotLeaseholder";
    this.config = config;
    this.outcomeUnknown = outcomeUnknown;
  }
}

interface Follower {
  /** Next entry to send. */
  nextSeq: number;
  /**
   * Highest entry sent and not known lost. New entries go out right after it (pipelining, as in
   * Raft); a "not ok" answer, or no progress for a heartbeat interval, sends again from nextSeq.
   */
  sentSeq: number;
  /** Highest entry known to equal ours on that replica (this epoch). */
  matchSeq: number;
  /** When it last answered (anything at this epoch), our clock. */
  lastAckAtMs: number;
  lastSentAtMs: number;
  /**
   * A replica (member) that lost entries it had acknowledged (its log went back: a wiped disk) or
   * that needs a snapshot: it must leave the configuration and come back as a learner, re-admitted
   * only once it holds every committed entry again (README.md, "A lost disk").
   */
  mustLeave: boolean;
}

export class Replica {
  readonly id: NodeId;
  readonly shardId: number;
  private readonly clock: Clock;
  private readonly log: ReplicationLog;
  private readonly directory: ConfigManager;
  private readonly send: ReplicaOptions["send"];
  private readonly applyEntry: ReplicaOptions["apply"];
  private readonly limits: ReplicationLimits;
  private readonly note: (line: string) => void;

  /** The newest configuration this replica knows (from the directory). */
  private config: ShardConfig | undefined;
  private committedSeq: number;
  private appliedSeq: number;
  /** Primary: lease end on our own clock (README.md, "Leases"). */
  private leaseUntilMs = 0;
  private lastRenewAtMs = -Infinity;
  private readonly followers = new Map<NodeId, Follower>();
  /** Primary: the no-op that opened its tenure (Infinity: not primary). */
  private tenureStartSeq = Infinity;
  /**
   * The epoch whose primary *this process* is (0: none). A configuration naming this node primary
   * of an epoch its log already had when this process learned it was led by an earlier run of the
   * process: roles are crash-only, so that tenure is over (adopt).
   */
  private ledEpoch = 0;
  /** A decaying maximum of recent directory round trips (leaseToAskMs). */
  private directoryRttMs = 0;
  /** When each unanswered lease renewal was sent: one outstanding for long is a round trip at least that long. */
  private readonly renewalsInFlight = new Set<number>();
  /** Primary: whether it held the lease at the last tick (a line when that changes). */
  private heldLease = false;
  private lastLateRenewalNoteAtMs = -Infinity;
  /**
   * Primary: learners the directory has been asked to add (→ the epoch asked at). Each counts for
   * commits until the outcome is known: a definite answer, or a configuration past that epoch. An
   * add whose answer was lost may have been applied — the directory then names the learner a
   * replica, and a commit without it would be a commit without every replica (seen in simulation
   * with a slow directory and a cut-off primary: the new primary lacked a committed entry).
   */
  private readonly joining = new Map<NodeId, number>();
  /**
   * Primary: learners close behind the commit point that commits now wait for, so that they can
   * reach it (tickPrimary). Counting a learner is always safe; it only slows commits to its pace.
   */
  private readonly catchingUp = new Set<NodeId>();
  /** The highest epoch the log held when this process started (adopt: epochs an earlier run may have led). */
  private readonly startEpoch: number;
  private readonly waiters = new Map<number, { resolve: (seq: number) => void; reject: (e: Error) => void }>();
  /** Proposals waiting for the next append (appendProposals). */
  private proposals: Array<{ payload: Uint8Array; resolve: (seq: number) => void; reject: (e: Error) => void }> = [];
  /** Backup: when the primary of our epoch was last heard from. */
  private lastHeardAtMs: number;
  private lastPollAtMs = -Infinity;
  /** One directory call at a time: their answers change `config`. */
  private directoryBusy = false;
  private applyScheduled = false;
  /** Started with an empty log: may not take over before it holds an entry of the current epoch. */
  private startedEmpty: boolean;
  private stopped = false;
  private readonly snapshots: SnapshotInstaller | undefined;
  /** A snapshot is being installed: the log and the state are being replaced; nothing is applied or acknowledged. */
  private installing = false;
  private snapshotsInstalledCount = 0;
  private lastTruncateAtMs = -Infinity;

  constructor(o: ReplicaOptions) {
    this.id = o.id;
    this.shardId = o.shardId;
    this.clock = o.clock;
    this.log = o.log;
    this.directory = o.directory;
    this.send = o.send;
    this.applyEntry = o.apply;
    this.limits = { ...replicationLimits, ...o.limits };
    this.note = o.onEvent ?? (() => {});
    this.snapshots = o.snapshots;
    this.appliedSeq = o.appliedSeq ?? 0;
    this.committedSeq = this.appliedSeq;
    this.lastHeardAtMs = this.clock.nowMs();
    // No entry in the log: a new or wiped store, or one holding only a snapshot's state (its base).
    this.startedEmpty = this.log.lastSeq() < this.log.firstSeq();
    this.startEpoch = this.log.epoch();
  }

  /** The configuration this replica acts on, if it has one. */
  get currentConfig(): ShardConfig | undefined {
    return this.config;
  }

  get epoch(): number {
    return this.log.epoch();
  }

  get committed(): number {
    return this.committedSeq;
  }

  get applied(): number {
    return this.appliedSeq;
  }

  /** Whether a snapshot is being installed now, and how many this process installed. */
  get snapshotState(): { installing: boolean; installed: number } {
    return { installing: this.installing, installed: this.snapshotsInstalledCount };
  }

  /**
   * Primary: it has applied the no-op that opened its tenure, so every entry committed before it is
   * applied. Not "an applied entry of the current epoch": a primary's own reconfigurations (a
   * replica removed or added) raise the epoch without a new no-op, and one that reconfigured before
   * its first write would then never count as caught up (seen under load: removals right after
   * the start, and the KV service never started).
   */
  get tenureApplied(): boolean {
    return this.appliedSeq >= this.tenureStartSeq;
  }

  /** Leaseholder now: primary of the newest epoch it knows, lease running on its own clock. */
  isLeaseholder(): boolean {
    return this.leads(this.config) && this.clock.nowMs() < this.leaseUntilMs;
  }

  /** This process is the primary of `c`, the newest epoch it knows (lease or not). */
  private leads(c: ShardConfig | undefined): boolean {
    return c !== undefined && c.primary === this.id && c.epoch === this.log.epoch() && this.ledEpoch === c.epoch;
  }

  /**
   * Appends `payload` and resolves with its sequence number once it is committed (durable on every
   * replica of the configuration) and this replica still holds the lease. Rejects with
   * NotLeaseholder otherwise.
   */
  propose(payload: Uint8Array): Promise<number> {
    if (!this.isLeaseholder()) {
      return Promise.reject(new NotLeaseholder(`${this.id} is not the leaseholder of shard ${this.shardId}`, this.config, false));
    }
    // Proposals that arrive in the same turn of the event loop are appended together (one fsync).
    const done = new Promise<number>((resolve, reject) => this.proposals.push({ payload, resolve, reject }));
    if (this.proposals.length === 1) setImmediate(() => this.appendProposals());
    return done;
  }

  private appendProposals(): void {
    const batch = this.proposals.splice(0, this.limits.prepareEntriesMax);
    if (this.proposals.length > 0) setImmediate(() => this.appendProposals());
    if (batch.length === 0) return;
    if (this.stopped || !this.isLeaseholder()) {
      for (const p of batch) p.reject(new NotLeaseholder(`${this.id} is not the leaseholder of shard ${this.shardId}`, this.config, false));
      return;
    }
    const first = this.log.lastSeq() + 1;
    const epoch = this.log.epoch();
    this.log.append(batch.map((p, i) => ({ seq: first + i, epoch, payload: p.payload })));
    batch.forEach((p, i) => this.waiters.set(first + i, { resolve: p.resolve, reject: p.reject }));
    this.replicate();
    this.advanceCommit();
  }

  /** Periodic work: leases, heartbeats, failure detection, directory polls. Call every ~heartbeatEveryMs / 2. */
  tick(): void {
    if (this.stopped) return;
    const now = this.clock.nowMs();
    const c = this.config;
    if (c === undefined || now - this.lastPollAtMs >= this.limits.configPollEveryMs) {
      this.lastPollAtMs = now;
      this.callDirectory(() => this.directory.current(this.shardId).then((cfg) => ({ ok: true as const, config: cfg! })), "poll");
    }
    if (c === undefined) return;
    this.truncateLog(c, now);
    if (this.leads(c)) {
      this.tickPrimary(c, now);
      const holds = this.isLeaseholder();
      if (holds !== this.heldLease) this.note(`${this.id}: ${holds ? "holds" : "lost"} the lease of epoch ${c.epoch} (directory round trip estimate ${Math.round(this.directoryRttMs)} ms)`);
      this.heldLease = holds;
      return;
    }
    this.heldLease = false;
    if (!c.replicas.includes(this.id)) {
      if (!c.learners.includes(this.id)) this.callDirectory(() => this.directory.requestJoin(this.shardId, this.id), "join");
      return;
    }
    // A backup that has not heard from the primary for failoverAfterMs asks to take over; the
    // directory grants it only once the primary's lease has run out.
    // A replica that started with an empty log (its disk was lost, or it never had one) may still be
    // named in the configuration; it takes over only once it holds an entry of the current epoch:
    // then its log equals the primary's up to that primary's no-op, and everything committed since
    // needed its ack. Until then another replica must take over (README.md, "A lost disk").
    const lastEpoch = this.log.epochAt(this.log.lastSeq()) ?? 0;
    if (this.startedEmpty && lastEpoch === c.epoch && this.log.lastSeq() >= this.log.firstSeq()) this.startedEmpty = false;
    if (now - this.lastHeardAtMs >= this.limits.failoverAfterMs && !this.startedEmpty && !this.installing) {
      const seen = c.epoch;
      const leaseMs = this.leaseToAskMs();
      this.callDirectory(() => this.directory.promote(this.shardId, this.id, seen, leaseMs), "promote", leaseMs);
    }
  }

  /** Stops acting (the node is shutting down); pending proposals fail with an unknown outcome. */
  stop(): void {
    this.stopped = true;
    for (const p of this.proposals.splice(0)) p.reject(new NotLeaseholder(`${this.id} stopped`, this.config, false));
    this.failWaiters("the replica stopped");
  }

  onMessage(message: ReplicationMessage): void {
    if (this.stopped || message.shardId !== this.shardId) return;
    if (message.epoch < this.log.epoch()) {
      this.send(message.from, { kind: "stale", shardId: this.shardId, epoch: this.log.epoch(), from: this.id });
      return;
    }
    if (message.epoch > this.log.epoch()) {
      // While we lead, a newer epoch is most often our own reconfiguration (a replica removed or
      // added) that a backup heard of from the directory before our answer came back; dropping the
      // tenure for it made a healthy leaseholder exit (seen: "epoch 3 → 4" from a backup's ack, then
      // a failover waiting out a 6 s lease). Ask the directory now instead, and take nothing from
      // the message. Safe: if another node was promoted our lease had already run out on our clock
      // (we acknowledge nothing), and the backups refuse our older epoch meanwhile.
      if (this.leads(this.config)) {
        this.lastPollAtMs = -Infinity;
        return;
      }
      this.enterEpoch(message.epoch);
    }
    switch (message.kind) {
      case "prepare":
        return this.onPrepare(message);
      case "ack":
        return this.onAck(message);
      case "stale":
        return; // enterEpoch above did the work: we learned of a newer epoch
      case "snapshot":
        return this.onSnapshotNeeded(message);
    }
  }

  // --- primary ---

  private tickPrimary(c: ShardConfig, now: number): void {
    if (now - this.lastRenewAtMs >= this.limits.leaseRenewEveryMs) {
      this.lastRenewAtMs = now;
      const sentAtMs = now;
      const epoch = c.epoch;
      const leaseMs = this.leaseToAskMs();
      this.renewalsInFlight.add(sentAtMs);
      void this.directory.renewLease(this.shardId, this.id, epoch, leaseMs).then(
        (r) => {
          this.renewalsInFlight.delete(sentAtMs);
          this.sampleDirectoryRtt(sentAtMs);
          if (this.stopped) return;
          // Granted at the epoch we lead now (the directory grants a renewal sent before our own
          // reconfiguration: directory-state.ts renewLease), or refused.
          if (r.ok) this.adopt(r.config);
          if (r.ok && r.config.primary === this.id && this.leads(this.config) && this.config!.epoch === r.config.epoch) {
            // From when the request was sent, not answered: the directory's lease started later.
            const until = sentAtMs + leaseMs - this.leaseMarginMs(leaseMs);
            if (until <= this.clock.nowMs()) this.noteRenewal(`answered after ${Math.round(this.clock.nowMs() - sentAtMs)} ms, too late for its ${leaseMs} ms lease`);
            this.leaseUntilMs = Math.max(this.leaseUntilMs, until);
            this.advanceCommit();
          } else if (!r.ok) {
            this.adopt(r.config);
          }
        },
        (err: unknown) => {
          // Unreachable or slow directory: the lease runs out on its own.
          this.renewalsInFlight.delete(sentAtMs);
          this.sampleDirectoryRtt(sentAtMs);
          this.noteRenewal(`failed after ${Math.round(this.clock.nowMs() - sentAtMs)} ms: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
    }
    for (const peer of [...c.replicas, ...c.learners]) {
      if (peer === this.id) continue;
      const f = this.follower(peer);
      if (now - f.lastSentAtMs < this.limits.heartbeatEveryMs) continue;
      // No answer since the last heartbeat while entries are outstanding: they may be lost; send again.
      if (f.matchSeq < f.sentSeq && now - f.lastAckAtMs >= this.limits.heartbeatEveryMs) f.sentSeq = f.matchSeq;
      this.sendPrepare(peer, f);
    }
    // A backup that stopped answering holds every commit: drop it from the configuration. So is one
    // that lost its log or needs a snapshot (Follower.mustLeave).
    for (const peer of c.replicas) {
      if (peer === this.id) continue;
      const f = this.follower(peer);
      if ((now - f.lastAckAtMs >= this.limits.backupTimeoutMs || f.mustLeave) && this.isLeaseholder()) {
        this.callDirectory(() => this.directory.removeReplica(this.shardId, this.id, c.epoch, peer), `remove ${peer}${f.mustLeave ? " (lost its log or needs a snapshot)" : ""}`);
        break;
      }
    }
    // A learner that holds every committed entry becomes a replica. From the request on it counts
    // for commits (advanceCommit), so nothing commits without it while the directory decides; under
    // a steady write load its match point is rarely our last entry, so that cannot be the condition.
    for (const peer of c.learners) this.follower(peer).mustLeave = false; // it has left
    for (const peer of this.catchingUp) if (!c.learners.includes(peer)) this.catchingUp.delete(peer);
    for (const peer of c.learners) {
      const f = this.follower(peer);
      if (f.matchSeq === 0 || now - f.lastAckAtMs >= this.limits.backupTimeoutMs) {
        this.catchingUp.delete(peer); // silent (or not started): commits do not wait for it
        continue;
      }
      // Close behind: from now on commits wait for it, or it might never reach the commit point —
      // with one replica the commit point is the last entry, and under steady writes a learner is
      // always a round trip behind it (seen: a shard left at one replica for good, its returning
      // nodes learners forever).
      if (this.committedSeq - f.matchSeq <= this.limits.prepareEntriesMax) this.catchingUp.add(peer);
      if (f.matchSeq >= this.committedSeq && this.isLeaseholder()) {
        const epoch = c.epoch;
        this.callDirectory(() => {
          this.joining.set(peer, epoch);
          // An answer (yes or no) settles it; a lost one does not (the map's comment).
          return this.directory.addReplica(this.shardId, this.id, epoch, peer).then((r) => {
            if (this.joining.get(peer) === epoch) this.joining.delete(peer);
            return r;
          });
        }, `add ${peer}`);
        break;
      }
    }
  }

  private follower(peer: NodeId): Follower {
    let f = this.followers.get(peer);
    if (!f) {
      f = { nextSeq: this.log.lastSeq() + 1, sentSeq: this.log.lastSeq(), matchSeq: 0, lastAckAtMs: this.clock.nowMs(), lastSentAtMs: -Infinity, mustLeave: false };
      this.followers.set(peer, f);
    }
    return f;
  }

  private replicate(): void {
    const c = this.config;
    if (!c) return;
    for (const peer of [...c.replicas, ...c.learners]) {
      if (peer === this.id) continue;
      const f = this.follower(peer);
      if (f.sentSeq < this.log.lastSeq()) this.sendPrepare(peer, f);
    }
  }

  private sendPrepare(peer: NodeId, f: Follower): void {
    const from = Math.max(f.nextSeq, f.sentSeq + 1);
    if (from < this.log.firstSeq()) return this.sendSnapshotNeeded(peer, f);
    const prevSeq = from - 1;
    const entries = this.log.entries(from, this.limits.prepareEntriesMax);
    if (entries.length > 0) f.sentSeq = entries[entries.length - 1]!.seq;
    const message: Prepare = {
      kind: "prepare",
      shardId: this.shardId,
      epoch: this.log.epoch(),
      from: this.id,
      prevSeq,
      prevEpoch: this.log.epochAt(prevSeq) ?? 0,
      entries,
      committedSeq: this.committedSeq,
    };
    f.lastSentAtMs = this.clock.nowMs();
    this.send(peer, message);
  }

  /**
   * The entries `peer` needs next are no longer in our log: it must install a snapshot, pulled from
   * us. Sent again at each heartbeat until it answers with an ack at or past our base. A member that
   * needs one cannot acknowledge anything while the transfer runs, and every commit would wait for
   * it: it leaves the configuration (tickPrimary) and is re-admitted once caught up.
   */
  private sendSnapshotNeeded(peer: NodeId, f: Follower): void {
    const baseSeq = this.log.firstSeq() - 1;
    f.lastSentAtMs = this.clock.nowMs();
    if (this.config?.replicas.includes(peer)) f.mustLeave = true;
    this.send(peer, { kind: "snapshot", shardId: this.shardId, epoch: this.log.epoch(), from: this.id, baseSeq, baseEpoch: this.log.epochAt(baseSeq)! });
  }

  private onAck(m: Ack): void {
    const c = this.config;
    if (c === undefined || !this.leads(c) || m.epoch !== this.log.epoch()) return;
    const f = this.follower(m.from);
    f.lastAckAtMs = this.clock.nowMs();
    if (m.ok) {
      // Acks may arrive out of order or twice: the match point only moves forward.
      f.matchSeq = Math.max(f.matchSeq, m.matchSeq);
      f.nextSeq = Math.max(f.nextSeq, f.matchSeq + 1);
      f.sentSeq = Math.max(f.sentSeq, f.matchSeq);
      this.advanceCommit();
      if (f.sentSeq < this.log.lastSeq()) this.sendPrepare(m.from, f);
    } else {
      // Its log lacks our prevSeq: go back to just after its last entry. A last entry below what it
      // had matched means it lost its log (a wiped disk): it holds only what it says now, and a
      // member that lost entries it acknowledged must leave the configuration (Follower.mustLeave).
      if (m.matchSeq < f.matchSeq) {
        f.matchSeq = m.matchSeq;
        if (c.replicas.includes(m.from)) f.mustLeave = true;
      }
      f.nextSeq = Math.max(f.matchSeq + 1, Math.min(f.nextSeq - 1, m.matchSeq + 1));
      f.sentSeq = f.nextSeq - 1;
      this.sendPrepare(m.from, f);
    }
  }

  /** Commit point = the highest entry every replica of the configuration holds. Only a leaseholder acknowledges. */
  private advanceCommit(): void {
    const c = this.config;
    if (c === undefined || !this.leads(c)) return;
    let point = this.log.lastSeq();
    for (const peer of c.replicas) if (peer !== this.id) point = Math.min(point, this.follower(peer).matchSeq);
    // A learner being added counts already: whatever commits while the directory adds it is on it too.
    for (const peer of this.joining.keys()) point = Math.min(point, this.follower(peer).matchSeq);
    for (const peer of this.catchingUp) point = Math.min(point, this.follower(peer).matchSeq);
    // Nothing commits before the no-op that opened this primary's tenure is everywhere
    // (README.md, "Reconciliation": older entries commit with it, or are dropped before it).
    if (point < this.tenureStartSeq) return;
    if (point > this.committedSeq) this.committedSeq = point;
    this.scheduleApply();
  }

  /** The primary's acknowledgements, after the entries are applied (a read at the leaseholder sees them). */
  private acknowledge(): void {
    if (!this.isLeaseholder()) return; // fencing: committed or not, nothing is acknowledged without the lease
    for (const [seq, w] of this.waiters) {
      if (seq > this.appliedSeq) continue;
      this.waiters.delete(seq);
      w.resolve(seq);
    }
  }

  // --- backup ---

  private onPrepare(m: Prepare): void {
    this.lastHeardAtMs = this.clock.nowMs();
    if (this.installing) return; // the log is being replaced; the primary sends again
    const nack = () => this.send(m.from, { kind: "ack", shardId: this.shardId, epoch: this.log.epoch(), from: this.id, ok: false, matchSeq: this.log.lastSeq() });
    if (m.prevSeq > 0 && this.log.epochAt(m.prevSeq) !== m.prevEpoch) return nack();
    let seq = m.prevSeq;
    const fresh: LogEntry[] = [];
    for (const e of m.entries) {
      seq = e.seq;
      if (e.seq < this.log.firstSeq()) continue; // applied here already (our log's prefix was dropped)
      const mine = fresh.length === 0 ? this.log.entry(e.seq) : undefined;
      if (mine !== undefined && mine.epoch === e.epoch) continue; // same (seq, epoch): same entry
      if (mine !== undefined) {
        if (e.seq <= this.committedSeq) throw new Error(`replica ${this.id}: primary ${m.from} contradicts committed entry ${e.seq}`);
        this.log.truncateFrom(e.seq);
      }
      fresh.push(e);
    }
    if (fresh.length > 0) this.log.append(fresh);
    // Matched through `seq`: what we hold beyond it may differ from the primary and is not vouched for.
    this.committedSeq = Math.max(this.committedSeq, Math.min(m.committedSeq, seq));
    this.scheduleApply();
    this.send(m.from, { kind: "ack", shardId: this.shardId, epoch: this.log.epoch(), from: this.id, ok: true, matchSeq: seq });
  }

  /** The primary's log no longer holds what we need next, unless our log holds its base. */
  private onSnapshotNeeded(m: SnapshotNeeded): void {
    this.lastHeardAtMs = this.clock.nowMs();
    if (this.installing || this.snapshots === undefined) return;
    const ack = (matchSeq: number) => this.send(m.from, { kind: "ack", shardId: this.shardId, epoch: this.log.epoch(), from: this.id, ok: true, matchSeq });
    // Our applied state covers its base (it is committed, so the same everywhere), or our log holds
    // the base entry itself: by the log matching property we equal its log up to there.
    const ourBase = this.log.firstSeq() - 1;
    if (m.baseSeq <= ourBase && ourBase > 0) return ack(ourBase);
    if (m.baseSeq > 0 && this.log.epochAt(m.baseSeq) === m.baseEpoch) return ack(m.baseSeq);
    this.installing = true;
    this.note(`${this.id}: installing a snapshot from ${m.from} (its log starts after ${m.baseSeq}; ours ends at ${this.log.lastSeq()})`);
    this.snapshots.install(m.from).then(
      ({ seq }) => {
        this.installing = false;
        if (this.stopped) return;
        // The store now holds the state at `seq` and the log nothing after it. Everything up to
        // seq is committed; what this replica acknowledged before may be gone, so it is treated as
        // a replica that lost its disk until it holds an entry of the current epoch.
        this.appliedSeq = seq;
        this.committedSeq = seq;
        this.startedEmpty = true;
        this.snapshotsInstalledCount++;
        this.note(`${this.id}: snapshot at ${seq} installed`);
      },
      (err: unknown) => {
        this.installing = false;
        this.note(`${this.id}: snapshot install failed: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }

  // --- both ---

  /**
   * Drops the log's prefix that is applied here and, on the primary, held by every replica, keeping
   * logRetainEntries below that point so a replica briefly away catches up from the log. A replica
   * further behind gets a snapshot (sendSnapshotNeeded). Only with snapshots: without them the log
   * is the only way to catch up.
   */
  private truncateLog(c: ShardConfig, now: number): void {
    if (this.snapshots === undefined || this.installing || now - this.lastTruncateAtMs < this.limits.logTruncateEveryMs) return;
    this.lastTruncateAtMs = now;
    let point = this.appliedSeq;
    if (this.leads(c)) {
      for (const peer of c.replicas) if (peer !== this.id) point = Math.min(point, this.follower(peer).matchSeq);
      // A learner catching up from the log (it answered lately) holds it too; a silent one does not,
      // or a learner that went away for good would stop truncation forever.
      for (const peer of c.learners) {
        const f = this.follower(peer);
        if (f.matchSeq > 0 && now - f.lastAckAtMs < this.limits.backupTimeoutMs) point = Math.min(point, f.matchSeq);
      }
    }
    const sending = this.snapshots.sendingAt();
    if (sending !== undefined) point = Math.min(point, sending);
    point = Math.min(point - this.limits.logRetainEntries, this.log.firstSeq() - 1 + this.limits.logTruncateEntriesMax);
    if (point >= this.log.firstSeq()) this.log.truncatePrefix(point);
  }

  /**
   * Applies what committed, once per turn of the event loop: the commits that many acks (or
   * prepares) reveal in one turn cost one write of the state machine, not one each.
   */
  private scheduleApply(): void {
    if (this.applyScheduled) return;
    this.applyScheduled = true;
    setImmediate(() => {
      this.applyScheduled = false;
      if (this.stopped || this.installing) return; // a dead process applies nothing; an install replaces the state
      this.applyCommitted();
      this.acknowledge();
    });
  }

  private applyCommitted(): void {
    while (this.appliedSeq < this.committedSeq) {
      const entries = this.log.entries(this.appliedSeq + 1, Math.min(this.limits.prepareEntriesMax, this.committedSeq - this.appliedSeq));
      if (entries[0]?.seq !== this.appliedSeq + 1) throw new Error(`replica ${this.id}: committed entry ${this.appliedSeq + 1} is missing`);
      this.applyEntry(entries);
      this.appliedSeq = entries[entries.length - 1]!.seq;
    }
  }

  /** A message or the directory showed a newer epoch: stop acting as its primary, and learn it properly. */
  private enterEpoch(epoch: number): void {
    this.note(`${this.id}: epoch ${this.log.epoch()} → ${epoch}`);
    this.log.setEpoch(epoch);
    this.leaseUntilMs = 0;
    this.tenureStartSeq = Infinity;
    this.ledEpoch = 0;
    this.joining.clear();
    this.catchingUp.clear();
    this.renewalsInFlight.clear();
    this.followers.clear();
    this.failWaiters(`epoch ${epoch} began`);
    this.lastHeardAtMs = this.clock.nowMs();
    this.lastPollAtMs = -Infinity; // ask the directory who leads it at the next tick
  }

  private adopt(next: ShardConfig | undefined): void {
    if (next === undefined) return;
    const prev = this.config;
    if (prev !== undefined && next.epoch < prev.epoch) return;
    const epochBefore = this.log.epoch();
    const continuing = this.leads(prev) && next.primary === this.id;
    if (next.epoch > epochBefore) {
      if (continuing) {
        // Our own reconfiguration (a replica removed or added): same primary, same log, same lease.
        this.log.setEpoch(next.epoch);
        this.ledEpoch = next.epoch;
        this.note(`${this.id}: epoch ${prev!.epoch} → ${next.epoch} (replicas ${next.replicas.join(", ")})`);
      } else {
        this.enterEpoch(next.epoch);
      }
    }
    if (next.epoch < this.log.epoch()) return; // we know of a newer epoch than the directory told this caller
    this.config = next;
    // An add asked at an older epoch can no longer be applied (compare-and-set), or was (then the
    // learner is a replica of `next` and counts as one).
    for (const [peer, epoch] of this.joining) if (next.epoch > epoch) this.joining.delete(peer);
    if (next.primary !== this.id || continuing || this.ledEpoch === next.epoch) return;
    if (next.epoch <= this.startEpoch) {
      // Named primary of an epoch the log already held when this process started: an earlier run
      // of it led that epoch and died (a restart within the lease). Every epoch a process acts in
      // is durable before it acts (enterEpoch, the reconfiguration above), so no earlier run led a
      // later one. Roles are crash-only (README.md, "Restarts"): this process does not resume that
      // tenure — its followers' match points and its commit point are gone, and a second process
      // on the same data would write the same (seq, epoch) as another entry. It acts as a backup
      // that heard nothing: once the lease has lapsed, it or another replica asks the directory for
      // a new epoch (directory-state.ts promote).
      if (prev?.epoch !== next.epoch) {
        this.note(`${this.id}: named primary of epoch ${next.epoch}, which an earlier run of this process led: not resuming it; a new epoch begins once its lease lapses`);
        // Alone in the shard, nobody else can take over: it asks for a new epoch at once (granted
        // once the old lease has run out). With other replicas it waits failoverAfterMs like any
        // backup: theirs started at the crash, so one of them, running with warm caches, usually
        // asks first; either is safe.
        if (next.replicas.length === 1) this.lastHeardAtMs = -Infinity;
      }
      return;
    }
    // A new primary starts its tenure with a no-op: replicas drop whatever uncommitted tail
    // disagrees with it, and its older entries commit with it (README.md, "Reconciliation").
    this.ledEpoch = next.epoch;
    this.log.append([{ seq: this.log.lastSeq() + 1, epoch: next.epoch, payload: null }]);
    this.tenureStartSeq = this.log.lastSeq();
    this.followers.clear();
    this.note(`${this.id}: primary of shard ${this.shardId}, epoch ${next.epoch}`);
    this.replicate();
  }

  /**
   * The lease to ask the directory for: the base leaseMs, or longer when the directory answers
   * slowly. The lease counts from when the renewal was sent, so an answer later than the lease
   * minus its margin gives none, while the directory's copy of the lease is extended all the same
   * and no backup can be promoted: a shard whose directory round trips exceed ~1.8 s had no
   * leaseholder at all (README.md, "Slow directory"). Asked for: long enough that the next
   * renewal's answer, even at twice the recent round trip, lands before this lease ends — bounded
   * by leaseMsMax, which bounds the failover time it costs.
   */
  private leaseToAskMs(): number {
    const l = this.limits;
    // A renewal still unanswered after X ms is a round trip of at least X: without it the first
    // renewals after the directory slowed down all asked for short leases that were over on arrival.
    let rtt = this.directoryRttMs;
    for (const sentAtMs of this.renewalsInFlight) rtt = Math.max(rtt, this.clock.nowMs() - sentAtMs);
    const wanted = Math.ceil(((l.leaseRenewEveryMs + 2 * rtt) * l.leaseMs) / (l.leaseMs - l.leaseSafetyMarginMs));
    return Math.min(l.leaseMsMax, Math.max(l.leaseMs, wanted));
  }

  /** A lease renewal that gave no lease, at most one line per 5 s (the node logs show why a shard had no leaseholder). */
  private noteRenewal(what: string): void {
    const now = this.clock.nowMs();
    if (now - this.lastLateRenewalNoteAtMs < 5_000) return;
    this.lastLateRenewalNoteAtMs = now;
    this.note(`${this.id}: lease renewal ${what} (directory round trip estimate ${Math.round(this.directoryRttMs)} ms)`);
  }

  /** The margin for a lease of `leaseMs`: the same share of it as leaseSafetyMarginMs of leaseMs (clock rates). */
  private leaseMarginMs(leaseMs: number): number {
    return Math.ceil((leaseMs * this.limits.leaseSafetyMarginMs) / this.limits.leaseMs);
  }

  /** One directory round trip (or failure) that began at `sentAtMs`: the estimate decays by a fifth per sample. */
  private sampleDirectoryRtt(sentAtMs: number): void {
    this.directoryRttMs = Math.max(this.clock.nowMs() - sentAtMs, this.directoryRttMs * 0.8);
  }

  /** `promoteLeaseMs`: for a promote, the lease it asked for. */
  private callDirectory(call: () => Promise<DirectoryResult>, what: string, promoteLeaseMs = 0): void {
    if (this.directoryBusy) return;
    this.directoryBusy = true;
    const sentAtMs = this.clock.nowMs();
    call()
      .then(
        (r) => {
          this.sampleDirectoryRtt(sentAtMs);
          if (this.stopped) return;
          if (!r.ok) this.note(`${this.id}: ${what} refused: ${r.reason}`);
          const before = this.config?.epoch;
          this.adopt(r.config);
          // A promotion grants a lease that started no earlier than our request.
          if (r.ok && what === "promote" && r.config.primary === this.id && r.config.epoch !== before && this.ledEpoch === r.config.epoch) {
            this.leaseUntilMs = sentAtMs + promoteLeaseMs - this.leaseMarginMs(promoteLeaseMs);
            this.lastRenewAtMs = sentAtMs;
          }
        },
        (err: unknown) => {
          this.sampleDirectoryRtt(sentAtMs);
          this.note(`${this.id}: ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
        },
      )
      .finally(() => {
        this.directoryBusy = false;
      });
  }

  private failWaiters(why: string): void {
    for (const [seq, w] of this.waiters) {
      w.reject(new NotLeaseholder(`entry ${seq} not acknowledged: ${why}; it may still commit under the next primary`, this.config, true));
    }
    this.waiters.clear();
  }
}
