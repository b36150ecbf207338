import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadOrCreateSecret, readJson, writeFileAtomic } from "./data-dir.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warren-data-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("data dir files", () => {
  it("creates a secret once, readable only by its owner, and keeps it", () => {
    const file = path.join(tmp, "fleet-secret");
    const first = loadOrCreateSecret(file);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSecret(file)).toBe(first);
    expect(loadOrCreateSecret(path.join(tmp, "other"))).not.toBe(first);
  });
  it("writes JSON atomically with the requested mode and reads it back", () => {
    const file = path.join(tmp, "ready.json");
    writeFileAtomic(file, JSON.stringify({ a: 1 }), 0o600);
    expect(readJson(file)).toEqual({ a: 1 });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(tmp).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(readJson(path.join(tmp, "missing.json"))).toBeUndefined();
  });
});
