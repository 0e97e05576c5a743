/**
 * The whole revision through the Azure Pipelines task: the same inputs as the Action, spelled as
 * the task spells them, run by its real bundle as the agent runs it against the emulator.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fetch, ProxyAgent } from "undici";
import type { AppView, Emulator } from "../../emulator/types.ts";
import { armClient } from "../emulator/support.ts";
import {
  ENVIRONMENT,
  RESOURCE_GROUP,
  armWrites,
  expectInvariants,
  image,
  startWorld,
} from "./harness.ts";
import { runTask } from "./taskHarness.ts";

let emulator: Emulator;
let proxy: ProxyAgent;
const FAST = {
  stepWait: "1s",
  checkInterval: "250ms",
  smokeTimeout: "5s",
  readinessTimeout: "20s",
};

beforeAll(async () => {
  emulator = await startWorld();
  proxy = new ProxyAgent({
    uri: emulator.info.proxy,
    requestTls: { ca: readFileSync(emulator.info.caFile, "utf8") },
  });
});
afterAll(async () => {
  await proxy?.close();
  await emulator?.stop();
});

function seed(app: string): Promise<AppView> {
  return emulator.seed({
    resourceGroup: RESOURCE_GROUP,
    environment: ENVIRONMENT,
    app,
    secrets: [{ name: "db-password", value: "old-password" }],
    revisions: [
      {
        suffix: "v1",
        image: image("healthy"),
        env: [{ name: "DB_PASSWORD", secretRef: "db-password" }],
      },
    ],
    traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
  });
}

async function envOf(view: AppView, revision: string): Promise<Record<string, string>> {
  const host = `${revision}.${view.fqdn.slice(view.name.length + 1)}`;
  const response = await fetch(`https://${host}/env`, { dispatcher: proxy });
  return ((await response.json()) as { env: Record<string, string> }).env;
}

describe("Given the task and an app whose blue revision reads a secret", () => {
  test("when envVars, secrets, cpu and memory are given, the candidate runs with them and the secret stays masked", async () => {
    const app = "task-tpl-env";
    const view = await seed(app);
    const apiKey = `key-${randomBytes(12).toString("hex")}`;
    const run = await runTask(emulator, {
      inputs: {
        containerApp: app,
        image: image("healthy-v2"),
        revisionSuffix: "v2",
        envVars: "FEATURE_X=on\nAPI_KEY=secretref:api-key",
        secrets: `api-key=${apiKey}`,
        cpu: "0.75",
        memory: "1.5Gi",
        deactivatePrevious: "false",
        ...FAST,
      },
    });
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(await envOf(view, `${app}--v2`)).toEqual({
      DB_PASSWORD: "old-password",
      FEATURE_X: "on",
      API_KEY: apiKey,
    });
    expect(await envOf(view, `${app}--v1`)).toEqual({ DB_PASSWORD: "old-password" });
    const listed = await armClient(emulator.info).containerApps.listSecrets(RESOURCE_GROUP, app);
    expect(listed.value.map((secret) => secret.name)).toEqual(["db-password", "api-key"]);

    // The agent masks what the task registers: the key and every value listSecrets returned.
    // (The task library's own debug lines echo inputs; the agent masks a secret variable there.)
    expect(run.record.secrets).toEqual(expect.arrayContaining([apiKey, "old-password"]));
    const outsideMaskCommands = run.rawStdout
      .split("\n")
      .filter((line) => !/^##vso\[task\.(setsecret|debug)\]/.test(line))
      .join("\n");
    expect(outsideMaskCommands).not.toContain(apiKey);
    expect(outsideMaskCommands).not.toContain("old-password");
    expect(run.summary).not.toContain(apiKey);
    expect(run.summary).toContain("resources of task-tpl-env");
    expect(run.summary).toContain("**Secrets added:** `api-key`");
    expectInvariants(emulator, app, run, {
      traffic: [
        { revisionName: `${app}--v2`, weight: 100, label: "blue" },
        { revisionName: `${app}--v1`, weight: 0, label: "previous" },
      ],
      production: { label: "blue", revision: `${app}--v2` },
    });
  });

  test("when a variable refers to a secret the app lacks, the task names `envVars` and writes nothing", async () => {
    const app = "task-tpl-ref";
    const view = await seed(app);
    const run = await runTask(emulator, {
      inputs: {
        containerApp: app,
        image: image("healthy-v2"),
        envVars: "API_KEY=secretref:api-key",
        ...FAST,
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("`envVars`: API_KEY refers to secret api-key");
    const writes = armWrites(emulator).filter((entry) =>
      entry.path.includes(`/containerApps/${app}`),
    );
    expect(writes).toEqual([]);
    expectInvariants(emulator, app, run, { traffic: view.traffic });
  });
});
