// The gateway bundle scripts/build-gateway.ts writes (dist/ is git-ignored; wrangler's [build]
// step and `npm test`'s pretest create it). Declared here so type checking does not depend on it.
declare module "*/dist/gateway/gateway-modules.js" {
  const code: {
    version: string;
    mainModule: string;
    modules: Record<string, string | WebAssembly.Module>;
  };
  export default code;
}
