/**
 * The whole revision, end to end: the real Action bundle ships variables, secrets, CPU and memory,
 * replicas and a revision template file against the emulator, and the tests prove from the
 * revisions' own processes, the emulator's journals and the app's final state that the new
 * revision got them while blue kept what it runs.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fetch, ProxyAgent } from "undici";
import { startEmulator } from "../../emulator/index.ts";
import { armClient } from "../emulator/support.ts";
import type { AppView, ArmJournalEntry, Emulator, SeedSpec } from "../../emulator/types.ts";
import {
  ENVIRONMENT,
  RESOURCE_GROUP,
  armWrites,
  expectInvariants,
  image,
  runAction,
  visibleLog,
  type ActionRun,
} from "./harness.ts";

let emulator: Emulator;
let proxy: ProxyAgent;
let dir: string;
const FAST = {
  "step-wait": "1s",
  "check-interval": "250ms",
  "smoke-timeout": "5s",
  "readiness-timeout": "30s",
};
/** Each replica beyond the first takes this long after the one before: pre-warm must wait. */
const REPLICA_START_MS = 800;

beforeAll(async () => {
  emulator = await startEmulator({
    provisioningDelayMs: 150,
    operationDelayMs: 100,
    retryAfterSeconds: 1,
    replicaStartDelayMs: REPLICA_START_MS,
  });
  proxy = new ProxyAgent({
    uri: emulator.info.proxy,
    requestTls: { ca: readFileSync(emulator.info.caFile, "utf8") },
  });
  dir = mkdtempSync(join(tmpdir(), "aca-bg-template-"));
});
afterAll(async () => {
  await proxy?.close();
  await emulator?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const BLUE_ENV = { MODE: "blue", DB_PASSWORD: "old-password" };

/** An app whose v1 reads a secret: `MODE=blue` and `DB_PASSWORD` from secret db-password. */
function seedWithSecret(app: string, extra: Partial<SeedSpec> = {}): Promise<AppView> {
  return emulator.seed({
    resourceGroup: RESOURCE_GROUP,
    environment: ENVIRONMENT,
    app,
    secrets: [{ name: "db-password", value: BLUE_ENV.DB_PASSWORD }],
    revisions: [
      {
        suffix: "v1",
        image: image("healthy"),
        env: [
          { name: "MODE", value: "blue" },
          { name: "DB_PASSWORD", secretRef: "db-password" },
        ],
      },
    ],
    traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
    ...extra,
  });
}

/** The variables a revision's process runs with, read on its own host name. */
async function envOf(view: AppView, revision: string): Promise<Record<string, string>> {
  const host = `${revision}.${view.fqdn.slice(view.name.length + 1)}`;
  const response = await fetch(`https://${host}/env`, { dispatcher: proxy });
  if (response.status !== 200) throw new Error(`${host}/env answered ${response.status}`);
  return ((await response.json()) as { env: Record<string, string> }).env;
}

/** Reads blue's environment over and over until stopped: every answer it gave. */
function watchEnv(view: AppView, revision: string) {
  const seen: Record<string, string>[] = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      seen.push(await envOf(view, revision));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    seen,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

/** The app's secrets with their values, as `listSecrets` answers. */
async function secretsOf(app: string): Promise<Record<string, string>> {
  const listed = await armClient(emulator.info).containerApps.listSecrets(RESOURCE_GROUP, app);
  return Object.fromEntries(listed.value.map((secret) => [secret.name, secret.value ?? ""]));
}

/** Calls that change the app: listSecrets is a POST that only reads. */
function changesTo(app: string): ArmJournalEntry[] {
  return armWrites(emulator).filter(
    (entry) => entry.path.includes(`/containerApps/${app}`) && !entry.path.endsWith("/listSecrets"),
  );
}

function patchesTo(app: string): ArmJournalEntry[] {
  return changesTo(app).filter((entry) => entry.method === "PATCH");
}

type PatchBody = {
  properties?: {
    template?: { containers?: Record<string, unknown>[]; scale?: Record<string, unknown> };
    configuration?: {
      secrets?: { name: string; value?: string }[];
      ingress?: { traffic?: { revisionName: string; weight: number }[] };
    };
  };
};

function expectNoSecretIn(run: ActionRun, secret: string): void {
  for (const text of [visibleLog(run), run.stderr, run.summary, JSON.stringify(run.outputs)]) {
    expect(text).not.toContain(secret);
  }
}

describe("Given an app whose blue revision reads a secret", () => {
  test("when a new variable and a new secret reference are deployed, they reach the candidate's process and blue's environment never changes", async () => {
    const app = "tpl-env";
    const view = await seedWithSecret(app);
    const apiKey = `key-${randomBytes(12).toString("hex")}`;
    const blue = watchEnv(view, `${app}--v1`);
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        "revision-suffix": "v2",
        "traffic-steps": "50,100",
        "deactivate-previous": "false",
        "env-vars": "FEATURE_X=on\nAPI_KEY=secretref:api-key",
        secrets: `api-key=${apiKey}`,
        ...FAST,
      },
    });
    await blue.stop();
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);

    expect(await envOf(view, `${app}--v2`)).toEqual({
      ...BLUE_ENV,
      FEATURE_X: "on",
      API_KEY: apiKey,
    });
    expect(blue.seen.length).toBeGreaterThan(10);
    for (const seen of blue.seen) expect(seen).toEqual(BLUE_ENV);
    expect(await envOf(view, `${app}--v1`)).toEqual(BLUE_ENV);
    expect(await secretsOf(app)).toEqual({ "db-password": "old-password", "api-key": apiKey });

    // One write created the candidate with its secret and the lease; the rest moved traffic.
    const [create, ...rest] = patchesTo(app).map((entry) => entry.body as PatchBody);
    expect(create.properties?.configuration?.secrets?.map((s) => s.name)).toEqual([
      "db-password",
      "api-key",
    ]);
    for (const body of rest) expect(body.properties?.configuration?.secrets).toBeUndefined();

    expect(visibleLog(run)).toContain("Revision scope (the new revision only):");
    expect(visibleLog(run)).toMatch(/env of tpl-env: \+FEATURE_X, \+API_KEY \(secret api-key\)/);
    expect(visibleLog(run)).toMatch(/secret api-key added/);
    expect(run.summary).toContain("**Secrets added:** `api-key`");
    expectNoSecretIn(run, apiKey);
    expectNoSecretIn(run, BLUE_ENV.DB_PASSWORD);
    expectInvariants(emulator, app, run, {
      traffic: [
        { revisionName: `${app}--v2`, weight: 100, label: "blue" },
        { revisionName: `${app}--v1`, weight: 0, label: "previous" },
      ],
      production: { label: "blue", revision: `${app}--v2` },
    });
  });

  test("when CPU and memory do not make a Consumption pair, the run fails before any write", async () => {
    const app = "tpl-cpu";
    const view = await seedWithSecret(app);
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        cpu: "1",
        memory: "1Gi",
        ...FAST,
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(
      /`cpu` and `memory`: the revision's containers ask for 1 vCPU and 1Gi/,
    );
    expect(run.stdout).toContain("InvalidResources");
    expect(changesTo(app)).toEqual([]);
    expectInvariants(emulator, app, run, { traffic: view.traffic });
  });

  test("when a variable refers to a secret the app does not have, the run fails before any write", async () => {
    const app = "tpl-ref";
    const view = await seedWithSecret(app);
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        "env-vars": "API_KEY=secretref:api-key",
        ...FAST,
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain(
      "`env-vars`: API_KEY refers to secret api-key, which tpl-ref does not have (it has db-password)",
    );
    expect(changesTo(app)).toEqual([]);
    expectInvariants(emulator, app, run, { traffic: view.traffic });
  });

  test("when the value of a secret blue uses would change, the run is refused before any write", async () => {
    const app = "tpl-refuse";
    const view = await seedWithSecret(app);
    const value = `new-${randomBytes(8).toString("hex")}`;
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        secrets: `db-password=${value}`,
        ...FAST,
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain(`secret db-password gets a new value (used by ${app}--v1)`);
    expect(run.stdout).toContain("ApplicationChangeRefused");
    expect(run.stdout).toContain("allow-application-changes: true");
    expect(changesTo(app)).toEqual([]);
    expect(await secretsOf(app)).toEqual({ "db-password": "old-password" });
    expectNoSecretIn(run, value);
    expectInvariants(emulator, app, run, { traffic: view.traffic });
  });

  test("when allowed, a changed value is a warning; a failed candidate's restore puts it back and keeps the added secret", async () => {
    const app = "tpl-allowed";
    const view = await seedWithSecret(app);
    const value = `new-${randomBytes(8).toString("hex")}`;
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("http500"),
        "revision-suffix": "bad",
        secrets: `db-password=${value}\nextra-token=${value}-x`,
        "allow-application-changes": "true",
        ...FAST,
        "smoke-timeout": "1500ms",
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.result).toBe("failed-before-traffic");
    expect(run.stdout).toMatch(/::warning::Application scope: secret db-password gets a new value/);
    expect(run.summary).toContain("⚠️ Application scope: secret db-password gets a new value");
    expect(visibleLog(run)).toContain("Put back: the old value of db-password");
    expect(await secretsOf(app)).toEqual({
      "db-password": "old-password",
      "extra-token": `${value}-x`,
    });
    expect(run.summary).toContain("**Secrets added:** `extra-token`");
    expect(await envOf(view, `${app}--v1`)).toEqual(BLUE_ENV);
    expectNoSecretIn(run, value);
    expectInvariants(emulator, app, run, { traffic: view.traffic });
  });
});

describe("Given a dry run", () => {
  test("the plan of the revision and the application scope is printed and nothing is written", async () => {
    const app = "tpl-dry";
    const view = await seedWithSecret(app);
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        "env-vars": "API_KEY=secretref:api-key\n-MODE",
        secrets: "api-key=dry-run-value",
        "min-replicas": "2",
        "dry-run": "true",
        ...FAST,
      },
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs.result).toBe("unchanged");
    expect(visibleLog(run)).toContain(`env of ${app}: +API_KEY (secret api-key), -MODE`);
    expect(visibleLog(run)).toContain("minReplicas: default → 2");
    expect(run.summary).toContain("### Changes it would make");
    expect(run.summary).toContain("secret api-key added");
    expect(changesTo(app)).toEqual([]);
    expectNoSecretIn(run, "dry-run-value");
    expectInvariants(emulator, app, run, { traffic: view.traffic });
  });
});

describe("Given a deploy that changed a secret's value and was killed mid-shift", () => {
  test("the post step restores the traffic and says the secret keeps its new value", async () => {
    const app = "tpl-killed";
    const view = await seedWithSecret(app);
    const value = `new-${randomBytes(8).toString("hex")}`;
    const inputs = {
      "container-app": app,
      image: image("healthy-v2"),
      "revision-suffix": "v2",
      "traffic-steps": "10,50,100",
      secrets: `db-password=${value}`,
      "allow-application-changes": "true",
      ...FAST,
      "step-wait": "3s",
    };
    const main = await runAction(emulator, {
      inputs,
      signalOn: { pattern: /^\[2\/3\]/, signal: "SIGKILL" },
    });
    expect(main.signal).toBe("SIGKILL");
    expect(JSON.stringify(main.state)).not.toContain(value);
    expect(JSON.stringify(main.state)).not.toContain("old-password");
    const post = await runAction(emulator, { inputs, entry: "dist/post.js", state: main.state });
    expect(post.exitCode).toBe(0);
    expect(post.stdout).toContain("Traffic restored");
    expect(post.stdout).toMatch(
      /::warning::Not put back: secret db-password keeps the new value: the old value was never saved/,
    );
    expect(await secretsOf(app)).toEqual({ "db-password": value });
    expectNoSecretIn(post, value);
    expectInvariants(emulator, app, post, { traffic: view.traffic });
  });
});

describe("Given a revision template file", () => {
  test("it deploys as given, with the image from the step", async () => {
    const app = "tpl-yaml";
    const view = await emulator.seed({
      resourceGroup: RESOURCE_GROUP,
      environment: ENVIRONMENT,
      app,
      revisions: [{ suffix: "v1", image: image("healthy") }],
      traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
    });
    const file = join(dir, "revision.yaml");
    writeFileSync(
      file,
      [
        "location: westeurope",
        "name: tpl-yaml",
        "type: Microsoft.App/containerApps",
        "properties:",
        "  provisioningState: Succeeded",
        "  template:",
        "    containers:",
        `      - name: ${app}`,
        "        image: registry.example/replaced-by-the-step:1",
        "        env:",
        "          - name: GREETING",
        "            value: hello from yaml",
        "        resources:",
        "          cpu: 0.25",
        "          memory: 0.5Gi",
        "    scale:",
        "      minReplicas: 1",
        "      maxReplicas: 4",
        "",
      ].join("\n"),
    );
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v3"),
        "revision-suffix": "v3",
        "revision-template": file,
        ...FAST,
      },
    });
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    const [create] = patchesTo(app).map((entry) => entry.body as PatchBody);
    expect(create.properties?.template).toEqual({
      revisionSuffix: "v3",
      containers: [
        {
          name: app,
          image: image("healthy-v3"),
          env: [{ name: "GREETING", value: "hello from yaml" }],
          resources: { cpu: 0.25, memory: "0.5Gi" },
        },
      ],
      scale: { minReplicas: 1, maxReplicas: 4 },
    });
    expect(await envOf(view, `${app}--v3`)).toEqual({ GREETING: "hello from yaml" });
    expect(visibleLog(run)).toContain(
      "`revision-template`: ignored, as not a rollout's to change: location, name, type, properties.provisioningState",
    );
    expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v3`, weight: 100, label: "blue" }],
      production: { label: "blue", revision: `${app}--v3` },
    });
  });
});

describe("Given a candidate that starts with three replicas", () => {
  test("no traffic step starts before the three are ready", async () => {
    const app = "tpl-warm";
    await seedWithSecret(app);
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        image: image("healthy-v2"),
        "revision-suffix": "v2",
        "min-replicas": "3",
        "traffic-steps": "50,100",
        ...FAST,
      },
    });
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    const candidate = emulator
      .getApp(RESOURCE_GROUP, app)
      .revisions.find((revision) => revision.name === `${app}--v2`);
    const readyTimes = (candidate?.replicaStates ?? []).map((r) => Date.parse(r.readyTime ?? ""));
    expect(readyTimes).toHaveLength(3);
    const allReady = Math.max(...readyTimes);
    // The replicas come up one by one: the revision was Running long before the third was ready.
    expect(allReady - Math.min(...readyTimes)).toBeGreaterThanOrEqual(2 * REPLICA_START_MS - 50);
    const steps = patchesTo(app)
      .slice(1)
      .filter((entry) =>
        (entry.body as PatchBody).properties?.configuration?.ingress?.traffic?.some(
          (e) => e.revisionName === `${app}--v2` && e.weight > 0,
        ),
      );
    expect(steps.length).toBeGreaterThanOrEqual(2);
    expect(steps[0].time).toBeGreaterThan(allReady);
    expect(visibleLog(run)).toContain(`${app}--v2: 3 of 3 replicas ready`);
    const smoke = emulator
      .ingressJournal()
      .filter((entry) => entry.host.startsWith(`${app}---green.`));
    expect(smoke.length).toBeGreaterThan(0);
    expect(Math.min(...smoke.map((entry) => entry.time))).toBeGreaterThan(allReady);
    expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
      production: { label: "blue", revision: `${app}--v2` },
    });
  });
});
