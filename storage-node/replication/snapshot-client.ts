// The receiving end's HTTP side: opens GET {peer}/v1/snapshot and yields its bytes, giving up when
// none arrives for idleTimeoutMs (the sender died, stopped or was cut off without closing the socket).
// Opening fails (before anything is installed) on any answer but 200, e.g. 503 while the sender
// already runs snapshotSendsMax transfers: the replica asks again at the primary's next notice.

export async function openSnapshot(url: string, token: string, idleTimeoutMs: number): Promise<AsyncIterable<Uint8Array>> {
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(new Error(`no snapshot byte for ${idleTimeoutMs} ms`)), idleTimeoutMs);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(new Error(`no snapshot byte for ${idleTimeoutMs} ms`)), idleTimeoutMs);
  };
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  } catch (err) {
    clearTimeout(timer);
    throw err;
  }
  if (res.status !== 200 || res.body === null) {
    clearTimeout(timer);
    const text = await res.text().catch(() => "");
    throw new Error(`snapshot from ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
  }
  const body = res.body;
  return {
    async *[Symbol.asyncIterator]() {
      try {
        for await (const piece of body as unknown as AsyncIterable<Uint8Array>) {
          touch();
          yield piece;
        }
      } finally {
        clearTimeout(timer);
        abort.abort();
      }
    },
  };
}
