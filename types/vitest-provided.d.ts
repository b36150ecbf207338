// Values vitest's globalSetup files provide to tests (project.provide / inject), typed for both
// tsconfigs: the Node side that provides them and the workers side that injects them.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the storage node started by test/harness/storage-node-setup.ts. */
    storageNodeUrl: string;
  }
}
