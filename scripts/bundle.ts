/**
 * Builds the committed bundles: the Action (ESM, what `uses:` runs) and the Pipelines task
 * (CommonJS, which azure-pipelines-task-lib needs). Deterministic, so CI can diff them.
 */
import { rmSync } from "node:fs";
import { build } from "esbuild";

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  legalComments: "none",
  logLevel: "warning",
} as const;

// Chunk names carry a content hash: start empty so no chunk of an older build stays behind.
rmSync("dist", { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { index: "src/github/main.ts", post: "src/github/post.ts" },
  outdir: "dist",
  format: "esm",
  // Main and post share one chunk instead of carrying two copies of the dependencies.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  // Some dependencies still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
});

// The task: the agent runs index.js, and post.js after the job. CommonJS cannot split chunks, so
// both entries require one shared bundle of the steps instead of carrying two copies of it.
await build({
  ...common,
  entryPoints: { steps: "src/ado/steps.ts" },
  outdir: "task",
  format: "cjs",
});
await build({
  ...common,
  entryPoints: { index: "src/ado/main.ts", post: "src/ado/post.ts" },
  outdir: "task",
  format: "cjs",
  plugins: [
    {
      name: "shared-steps",
      setup(build) {
        build.onResolve({ filter: /^\.\/steps\.ts$/ }, () => ({
          path: "./steps.js",
          external: true,
        }));
      },
    },
  ],
});
