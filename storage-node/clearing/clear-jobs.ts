// The HTTP thread's side of clearing spans: it keeps its copy of the clear records (the index
// reads consult) in step with the writer's news, and it is the one that starts each deletion job.
//
// Order matters: the writer stores a record with the commit that cleared the span and reports it;
// this thread adds it to its index, and only then posts the job that deletes the span's versions.
// So no read on this thread can ever see part of a span deleted without also knowing the record
// (and so refusing the old snapshot, or hiding the rest). After a restart every pending record is
// loaded before the node serves and its job is started again: the storage node owns the deletion,
// whether or not any gateway is alive.
import type { ClearNews, ClearKey, WriterReply } from "../writer/protocol.ts";
import type { ClearedSpans, ClearRecord } from "./cleared-spans.ts";

function idOf(k: ClearKey): string {
  return `${k.tenantId}/${k.clearTs}/${Buffer.from(k.start.buffer, k.start.byteOffset, k.start.byteLength).toString("hex")}`;
}

export class ClearJobs {
  private readonly index: ClearedSpans;
  private readonly submit: (key: ClearKey) => Promise<WriterReply>;
  private readonly log: (line: string) => void;
  private readonly running = new Set<string>();
  /** Version entries deleted by finished jobs (a counter for /metrics). */
  removedVersions = 0;

  constructor(index: ClearedSpans, submit: (key: ClearKey) => Promise<WriterReply>, log: (line: string) => void) {
    this.index = index;
    this.submit = submit;
    this.log = log;
  }

  /** The records on disk at start: all go in the index, pending ones get their job again. */
  load(records: ClearRecord[]): void {
    for (const r of records) this.index.add(r);
    this.resume();
  }

  /** Applies the writer's news (before the replies of the same message settle). */
  apply(news: ClearNews): void {
    for (const r of news.added) this.index.add(r);
    for (const k of news.done) {
      const r = this.index.find(k);
      if (r !== undefined) r.done = true;
    }
    for (const k of news.expired) this.index.remove(k);
    for (const r of news.added) this.start(r);
  }

  /** Starts a job for every pending record without one (at start, and after a failed job). */
  resume(): void {
    for (const r of this.index.all()) if (!r.done) this.start(r);
  }

  get jobsRunning(): number {
    return this.running.size;
  }

  pending(): number {
    let n = 0;
    for (const r of this.index.all()) if (!r.done) n++;
    return n;
  }

  private start(r: ClearRecord): void {
    const key: ClearKey = { tenantId: r.tenantId, clearTs: r.clearTs, start: r.start };
    const id = idOf(key);
    if (this.running.has(id)) return;
    this.running.add(id);
    this.submit(key)
      .then((reply) => {
        this.removedVersions += reply.removed ?? 0;
      })
      .catch((err: unknown) => this.log(`clear of tenant ${r.tenantId} span failed (retried at the next GC tick): ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => this.running.delete(id));
  }
}
