// Waiting for the signals that mean "stop": Ctrl-C (SIGINT), SIGTERM from a supervisor, SIGHUP
// when the terminal goes away.
import process from "node:process";

export const stopSignals: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Resolves with the first stop signal received; the handlers are removed afterwards. */
export function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      for (const s of stopSignals) process.off(s, handler);
      resolve(signal);
    };
    for (const s of stopSignals) process.on(s, handler);
  });
}
