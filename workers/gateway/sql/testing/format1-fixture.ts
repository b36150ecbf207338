// The format-1 fixture (fixtures/format1-catalog.json, made by scripts/make-format1-catalog.ts): a
// tenant's keyspace as the code before descriptors kept SQL text wrote it, and what that code
// answered to fixtures/format1-queries.json. descriptor-upgrade*.test.ts load it into a KV.
import type { KvClient } from "../../kv/kv-client.ts";
import { Txn } from "../../txn/txn.ts";
import type { Session } from "../session.ts";

export interface Fixture {
  tenantId: number;
  entries: Array<[key: string, value: string]>;
  answers: Record<string, Array<Array<string | null>>>;
}

const fixtureText = Object.values(import.meta.glob("../fixtures/format1-catalog.json", { query: "?raw", import: "default", eager: true }) as Record<string, string>)[0]!;
export const fixture = JSON.parse(fixtureText) as Fixture;

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function fromBase64(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** Writes the fixture's keys in one transaction. */
export async function writeFixture(kv: KvClient): Promise<void> {
  const txn = new Txn(kv);
  for (const [k, v] of fixture.entries) txn.put(fromHex(k), fromBase64(v));
  await txn.commit();
}

/** Each fixture query's rows on `s` beside what the old code answered. */
export async function fixtureAnswers(s: Session): Promise<Record<string, { got: unknown; want: unknown }>> {
  const out: Record<string, { got: unknown; want: unknown }> = {};
  for (const [q, want] of Object.entries(fixture.answers)) {
    const [r] = await s.execute(q);
    out[q] = { got: r!.rows, want };
  }
  return out;
}
