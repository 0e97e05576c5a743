/**
 * Builds the committed bundles: the Action (ESM, what `uses:` runs) and the Pipelines task
 * (CommonJS, which azure-pipelines-task-lib needs). Deterministic, so CI can diff them.
 */
import { build } from "esbuild";

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  legalComments: "none",
  logLevel: "warning",
} as const;

await build({
  ...common,
  entryPoints: { index: "src/github/main.ts", post: "src/github/post.ts" },
  outdir: "dist",
  format: "esm",
  outExtension: { ".js": ".js" },
  // Some dependencies still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
});
