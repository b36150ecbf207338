// Entry point of the writer thread. Owns the engine's write side: takes every job queued on its
// port (group commit), applies the group in one durable transaction, answers with one message.
// GC, tenant drops and clears of dropped/truncated spans run in bounded steps, yielding to queued
// commits between steps (a clear also pauses between its steps: clearChunkPauseMs, and at least
// as long as the step took).
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { LmdbEngine } from "../engine/lmdb-engine.ts";
import { ReplicatedEngine } from "../replication/replicated-engine.ts";
import type { WriterConfig, WriterJob, WriterMessage } from "./protocol.ts";
import { WriterCore } from "./writer-core.ts";

/** Jobs applied in one transaction at most: bounds one group's latency and transaction size. */
const GROUP_JOBS_MAX = 512;

const port = parentPort;
if (!port) throw new Error("writer-worker.ts must run as a worker thread");
/**
 * A standby thread (a replicated node's backup: WriterClient.standby) has loaded this module and
 * its imports — most of a writer's start — and waits for its configuration: the store is opened
 * only then, once the node is the leaseholder and has applied every committed entry.
 */
const config: WriterConfig =
  (workerData as { standby?: boolean }).standby === true
    ? await new Promise<WriterConfig>((resolve) => port.once("message", (m: { kind: "start"; config: WriterConfig }) => resolve(m.config)))
    : (workerData as WriterConfig);
const lmdb = new LmdbEngine({ path: config.dataDir, noSync: config.noSync });
// A replicated node (replication/replicated-node.ts): every write transaction becomes a log entry,
// durable on every replica before writeSync returns (replication/replicated-engine.ts).
const engine = config.replicationChannel ? new ReplicatedEngine(lmdb, config.replicationChannel) : lmdb;
const core = new WriterCore(engine, config.limits);

type Background = { job: Extract<WriterJob, { kind: "gc" | "drop" | "clear" | "purge" }>; cursor: Uint8Array | null; removed: number };
const background: Background[] = [];
let backgroundScheduled = false;

function post(msg: WriterMessage): void {
  port!.postMessage(msg);
}

function runBackgroundStep(): void {
  backgroundScheduled = false;
  const task = background[0];
  if (!task) return;
  const startedMs = performance.now();
  try {
    if (task.job.kind === "gc") {
      const step = core.gcStep(task.job.thresholdTs, task.cursor);
      task.removed += step.removed;
      task.cursor = step.cursor;
      if (step.cursor === null) finishBackground(task);
    } else if (task.job.kind === "drop" || task.job.kind === "purge") {
      const step = task.job.kind === "drop" ? core.dropStep(task.job.tenantId) : core.purgeStep(task.job.tenantId);
      task.removed += step.removed;
      if (step.done) finishBackground(task);
    } else {
      const step = core.clearStep(task.job.key);
      task.removed += step.removed;
      if (step.done) finishBackground(task);
      else post({ kind: "done", replies: [], bytes: core.takeBytesUpdate(), clears: core.takeClearNews() });
    }
  } catch (err) {
    background.shift();
    post({ kind: "failed", ids: [task.job.id], message: err instanceof Error ? err.message : String(err), bytes: core.takeBytesUpdate(), clears: core.takeClearNews() });
  }
  // A clear paces itself: the pause after a step is at least as long as the step took, so a big
  // clear holds the writer at most about half the time, and a commit waits at most one step.
  scheduleBackground(task.job.kind === "clear" ? Math.max(config.limits.clearChunkPauseMs, performance.now() - startedMs) : 0);
}

function finishBackground(task: Background): void {
  background.shift();
  post({
    kind: "done",
    replies: [{ id: task.job.id, response: new Uint8Array(0), ok: true, readBytes: 0, writeBytes: 0, removed: task.removed }],
    bytes: core.takeBytesUpdate(),
    clears: core.takeClearNews(),
  });
}

/** Usage counters: one small transaction, answered at once (they are not commits: no timestamp). */
function runCounters(job: Extract<WriterJob, { kind: "counters" }>): void {
  try {
    core.putCounters(job.entries);
    post({ kind: "done", replies: [{ id: job.id, response: new Uint8Array(0), ok: true, readBytes: 0, writeBytes: 0 }], bytes: [] });
  } catch (err) {
    post({ kind: "failed", ids: [job.id], message: err instanceof Error ? err.message : String(err), bytes: [] });
  }
}

function runMove(job: Extract<WriterJob, { kind: "move" }>): void {
  try {
    const reply = core.moveStep(job.id, job.step);
    post({ kind: "done", replies: [reply], bytes: core.takeBytesUpdate(), clears: core.takeClearNews() });
  } catch (err) {
    post({ kind: "failed", ids: [job.id], message: err instanceof Error ? err.message : String(err), bytes: core.takeBytesUpdate(), clears: core.takeClearNews() });
  }
}

function scheduleBackground(pauseMs = 0): void {
  if (backgroundScheduled || background.length === 0) return;
  backgroundScheduled = true;
  // setImmediate lets queued commit messages run first: background work never blocks them for
  // more than one bounded step. A pause after a clear step also leaves the writer idle time for
  // commits that arrive meanwhile (limits.ts clearChunkPauseMs).
  if (pauseMs > 0) setTimeout(runBackgroundStep, pauseMs);
  else setImmediate(runBackgroundStep);
}

port.on("message", (first: WriterJob) => {
  const jobs: WriterJob[] = [first];
  while (jobs.length < GROUP_JOBS_MAX) {
    const next = receiveMessageOnPort(port);
    if (!next) break;
    jobs.push(next.message as WriterJob);
  }
  let data: Array<Extract<WriterJob, { kind: "commit" | "batch" | "txnWrite" | "abortTxn" }>> = [];
  const counters: Array<Extract<WriterJob, { kind: "counters" }>> = [];
  for (const job of jobs) {
    if (job.kind === "commit" || job.kind === "batch" || job.kind === "txnWrite" || job.kind === "abortTxn") data.push(job);
    else if (job.kind === "counters") counters.push(job);
    else if (job.kind === "move") {
      // In posting order: the commits posted before a fence are applied before it, the ones after
      // it are refused by it (the move's barrier).
      if (data.length > 0) post(core.runGroup(data));
      data = [];
      runMove(job);
    } else background.push({ job: job as Background["job"], cursor: null, removed: 0 });
  }
  if (data.length > 0) post(core.runGroup(data));
  for (const job of counters) runCounters(job);
  scheduleBackground();
});

// Resume drops interrupted by a restart, then report ready.
for (const t of core.droppedTenants()) {
  while (!core.dropStep(t).done) {
    // keep going: a restart mid-drop finishes the drop before serving
  }
}
post(core.readyMessage());
