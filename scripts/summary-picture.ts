/**
 * `npm run summary-picture`: renders the job summary of a real run to the PNG the README shows.
 * A tool for maintainers, run by hand after the summary changes (not part of CI):
 *
 *   apt-get install -y chromium fonts-noto-color-emoji
 *   npm run bundle && npm run summary-picture
 *
 * It starts the emulator, deploys a release that starts failing once it gets traffic with the
 * Action's bundle (dist/), so the run is rolled back, then renders the summary it wrote as GitHub
 * does (GitHub-flavoured Markdown, Mermaid charts) and photographs it with headless Chromium.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Marked } from "marked";
import { startEmulator } from "../emulator/index.ts";
import { runActionBundle } from "../emulator/rehearsal.ts";

const ROOT = resolve(import.meta.dirname, "..");
const OUTPUT = join(ROOT, "docs", "images", "summary-rolled-back.png");
const WIDTH = 1000;
const CHROMIUM = process.env.CHROMIUM ?? "chromium";

async function main(): Promise<void> {
  const summary = await rolledBackSummary();
  const dir = mkdtempSync(join(tmpdir(), "aca-bg-picture-"));
  try {
    const page = join(dir, "summary.html");
    writeFileSync(page, html(summary));
    // The first pass measures the rendered page, the second photographs exactly that much.
    const dom = chromium(dir, ["--dump-dom", pathToFileURL(page).href], WIDTH, 1000);
    const height = Number(/data-height="(\d+)"/.exec(dom)?.[1]);
    if (!Number.isInteger(height) || height <= 0) {
      throw new Error("The page did not finish rendering (its Mermaid chart never drew).");
    }
    mkdirSync(dirname(OUTPUT), { recursive: true });
    chromium(dir, [`--screenshot=${OUTPUT}`, pathToFileURL(page).href], WIDTH, height);
    console.log(`wrote ${OUTPUT} (${WIDTH}x${height})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The job summary of a deploy whose checks fail at its first traffic step. */
async function rolledBackSummary(): Promise<string> {
  const emulator = await startEmulator({ provisioningDelayMs: 800, operationDelayMs: 400 });
  try {
    await emulator.seed({
      resourceGroup: "rg-shop",
      environment: "env-shop",
      app: "shop",
      revisions: [{ suffix: "v1", image: "emulator.test/app:v1" }],
      traffic: [{ revisionName: "shop--v1", weight: 100, label: "blue" }],
    });
    const run = await runActionBundle(emulator.info, {
      entry: join(ROOT, "dist", "index.js"),
      inputs: {
        "resource-group": "rg-shop",
        "container-app": "shop",
        image: "emulator.test/app:unhealthy-after-12",
        "revision-suffix": "v3",
        "traffic-steps": "10,50,100",
        "step-wait": "5s",
        "check-interval": "1s",
        "smoke-timeout": "10s",
        "smoke-checks": "- path: /\n- path: /health\n  status: 200\n  max-latency: 500ms",
      },
    });
    if (run.outputs.result !== "rolled-back") {
      throw new Error(
        `The run ended ${run.outputs.result || "without a result"}, not rolled-back.`,
      );
    }
    return run.summary;
  } finally {
    await emulator.stop();
  }
}

/** The summary as GitHub shows it: its Markdown, its Mermaid charts, its typography. */
function html(markdown: string): string {
  const marked = new Marked({ gfm: true });
  marked.use({
    renderer: {
      code({ text, lang }) {
        return lang === "mermaid" ? `<pre class="mermaid">${escape(text)}</pre>` : false;
      },
    },
  });
  const body = marked.parse(markdown, { async: false });
  const mermaid = pathToFileURL(join(ROOT, "node_modules", "mermaid", "dist", "mermaid.min.js"));
  return `<!doctype html>
<html><head><meta charset="utf-8"><style>${readFileSync(join(import.meta.dirname, "summary-picture.css"), "utf8")}</style></head>
<body><main class="markdown-body">${body}</main>
<script src="${mermaid.href}"></script>
<script>
  mermaid.initialize({ startOnLoad: false, theme: "default", gantt: { useWidth: ${WIDTH - 64} } });
  mermaid.run().then(() => {
    document.body.dataset.height = String(Math.ceil(document.documentElement.scrollHeight));
  });
</script>
</body></html>`;
}

function chromium(dir: string, args: string[], width: number, height: number): string {
  return execFileSync(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      "--allow-file-access-from-files",
      `--user-data-dir=${mkdtempSync(join(dir, "profile-"))}`,
      `--window-size=${width},${height}`,
      "--virtual-time-budget=10000",
      ...args,
    ],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "ignore"] },
  );
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

await main();
