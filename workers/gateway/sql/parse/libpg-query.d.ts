// Types for the two files of libpg-query the parser loads directly (the package's own entry
// points initialise the WASM at import time with a loader that fails inside workerd).

declare module "libpg-query/wasm/libpg-query.js" {
  /** The Emscripten module: memory helpers plus the exported C functions the parser calls. */
  export interface PgQueryWasm {
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    _wasm_parse_query_raw(queryPtr: number): number;
    _wasm_free_parse_result(resultPtr: number): void;
    /** CREATE FUNCTION … LANGUAGE plpgsql text → a C string: the function's tree as JSON, or an error message. */
    _wasm_parse_plpgsql(queryPtr: number): number;
    _wasm_free_string(ptr: number): void;
    lengthBytesUTF8(s: string): number;
    stringToUTF8(s: string, ptr: number, maxBytes: number): void;
    UTF8ToString(ptr: number): string;
    getValue(ptr: number, type: "i32"): number;
  }
  export interface PgQueryFactoryOptions {
    instantiateWasm?: (
      imports: WebAssembly.Imports,
      receive: (instance: WebAssembly.Instance) => void,
    ) => object;
  }
  const factory: (options?: PgQueryFactoryOptions) => Promise<PgQueryWasm>;
  export default factory;
}

declare module "libpg-query/wasm/libpg-query.wasm" {
  const wasm: WebAssembly.Module;
  export default wasm;
}
