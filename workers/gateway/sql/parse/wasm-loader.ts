// The one file that imports libpg-query's .wasm as a module, for workerd (the gateway bundle).
// Bundling: esbuild must leave `libpg-query/wasm/libpg-query.wasm` for wrangler as a CompiledWasm
// module (mark it external and copy the file, or use wrangler's own `[[rules]] type =
// "CompiledWasm"`); the Emscripten glue (`libpg-query.js`, CommonJS) is bundled normally.
// Node (unit tests) never loads this file: parser.ts uses the package's own Node loader there.
/// <reference path="./libpg-query.d.ts" />
import factory, { type PgQueryWasm } from "libpg-query/wasm/libpg-query.js";
import wasmModule from "libpg-query/wasm/libpg-query.wasm";

export async function instantiateParserWasm(): Promise<PgQueryWasm> {
  const g = globalThis as Record<string, unknown>;
  // The Emscripten glue derives its script directory from __filename (or self.location.href,
  // which workerd lacks); with instantiateWasm it never fetches anything from that directory.
  if (g["__filename"] === undefined) g["__filename"] = "/libpg-query.js";
  if (g["__dirname"] === undefined) g["__dirname"] = "/";
  // With nodejs_compat, `process.versions.node` exists and the glue would take its Node branch
  // (require("node:fs")). Its own escape hatch is process.type === "renderer"; set it only for the
  // duration of start-up.
  const proc = g["process"] as { type?: string } | undefined;
  const savedType = proc?.type;
  if (proc !== undefined) proc.type = "renderer";
  try {
    return await factory({
      instantiateWasm(imports, receive) {
        void WebAssembly.instantiate(wasmModule, imports).then((instance) => receive(instance));
        return {};
      },
    });
  } finally {
    if (proc !== undefined) proc.type = savedType;
  }
}
