// Headless Chromium for tests: Debian's `chromium` driven by playwright-core (never a browser
// playwright downloads itself; these machines cannot fetch one).
//
//   import { chromiumSkipReason, launchChromium } from "../harness/chromium.ts";
//   describe.skipIf(chromiumSkipReason !== null)("in a browser", () => {
//     it("…", async () => {
//       const browser = await launchChromium();
//       try { const page = await browser.newPage(); … } finally { await browser.close(); }
//     });
//   });
//
// On import it looks for the binary and, when it is missing, runs scripts/ci/ensure-chromium.sh
// (apt-get as root or with password-less sudo) once. Only if Chromium truly cannot be installed is
// `chromiumSkipReason` set, and the reason is printed, so a skipped browser test is never silent.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type LaunchOptions } from "playwright-core";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const ensureScript = path.join(repoRoot, "scripts", "ci", "ensure-chromium.sh");

/**
 * Flags for a closed network and for running as root: the sandbox cannot start as root; the
 * background-networking, component-update and sync flags stop Chromium's own calls home, which
 * this machine's network refuses many at a time; QUIC off keeps loopback traffic plain HTTP/1.1.
 */
export const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
] as const;

function locate(): { executablePath: string } | { skipReason: string } {
  const fromEnv = process.env["CHROMIUM_PATH"];
  for (const p of [fromEnv, "/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser"]) {
    if (p !== undefined && p !== "" && isExecutable(p)) return { executablePath: p };
  }
  const r = spawnSync("bash", [ensureScript], { encoding: "utf8", timeout: 15 * 60 * 1000 });
  const found = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status === 0 && found !== "" && isExecutable(found)) return { executablePath: found };
  return { skipReason: `headless Chromium is not available: ${(r.stderr || r.error?.message || `ensure-chromium.sh exited ${r.status}`).trim()}` };
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

const located = locate();

/** Why browser tests cannot run here, or null when Chromium is available. */
export const chromiumSkipReason: string | null = "skipReason" in located ? located.skipReason : null;
if (chromiumSkipReason !== null) console.warn(`SKIPPING browser tests: ${chromiumSkipReason}`);

/** The Chromium binary (throws with the skip reason when there is none). */
export function chromiumPath(): string {
  if ("skipReason" in located) throw new Error(located.skipReason);
  return located.executablePath;
}

/** Launches headless Chromium (playwright gives it a fresh temporary profile and removes it on close). */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    ...options,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
  });
}
