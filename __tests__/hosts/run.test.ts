/**
 * The main and post steps on a fake host: what a pipeline user sees (errors named as their
 * platform spells inputs, the failure message, the exit code, outputs and summary) and what
 * reaches Azure. Where a run needs Azure, it talks to the bundled emulator in this process.
 */
import type { CredentialSource } from "../../src/azure/credentials.ts";
import { JOURNAL_STATE_KEY, RunJournal } from "../../src/core/journal.ts";
import type { RunContext } from "../../src/core/ports.ts";
import { LEASE_TAG, encodeLeaseTags } from "../../src/core/tags.ts";
import { TIME_SCALE_ENV } from "../../src/core/timing.ts";
import type { Inputs } from "../../src/core/types.ts";
import type { Host } from "../../src/hosts/host.ts";
import { runMain, runPost } from "../../src/hosts/run.ts";
import { startEmulator } from "../../emulator/index.ts";
import type { Emulator } from "../../emulator/types.ts";
import { MemoryState } from "../core/support/engine.ts";
import { trustProcessWide } from "../emulator/support.ts";

/** A platform that spells inputs in camelCase, as Azure Pipelines does. */
function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** A host that records everything the run tells it. */
class FakeHost implements Host {
  readonly platform = "azure-pipelines" as const;
  readonly state = new MemoryState();
  readonly lines: string[] = [];
  readonly errors: string[] = [];
  readonly outputs: Record<string, string> = {};
  readonly masked: string[] = [];
  summary?: string;
  failed?: string;
  credentialRequests = 0;
  readonly #inputs: Record<string, string>;
  readonly #source: (inputs: Inputs) => CredentialSource;

  constructor(
    inputs: Record<string, string>,
    source: (inputs: Inputs) => CredentialSource = () => {
      throw new Error("this test has no Azure to authenticate to");
    },
  ) {
    this.#inputs = inputs;
    this.#source = source;
  }

  getInput(name: string): string | undefined {
    return this.#inputs[name];
  }
  inputName(name: string): string {
    return camelCase(name);
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = value;
  }
  secrets(): readonly string[] {
    return this.masked;
  }
  setSecret(value: string): void {
    this.masked.push(value);
  }
  async writeSummary(markdown: string): Promise<void> {
    this.summary = markdown;
  }
  setFailed(message: string): void {
    this.failed = message;
  }
  debug(message: string): void {
    this.lines.push(message);
  }
  info(message: string): void {
    this.lines.push(message);
  }
  warning(message: string): void {
    this.lines.push(message);
  }
  error(message: string): void {
    this.lines.push(message);
    this.errors.push(message);
  }
  group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.lines.push(title);
    return fn();
  }
  context(): RunContext {
    return {
      runId: "fake:42/1",
      holder: "pipeline Shop run 42",
      commitSha: "4f1c2b7e9a0d3c5b8e6f1a2d4c7b9e0f3a5d8c1b",
    };
  }
  async credentialSource(inputs: Inputs): Promise<CredentialSource> {
    this.credentialRequests += 1;
    return this.#source(inputs);
  }
}

const VALID = {
  "subscription-id": "00000000-0000-0000-0000-000000000001",
  "resource-group": "rg-shop",
  "container-app": "shop",
  image: "registry.test/shop:2",
};

const savedScale = process.env[TIME_SCALE_ENV];
afterEach(() => {
  if (savedScale === undefined) delete process.env[TIME_SCALE_ENV];
  else process.env[TIME_SCALE_ENV] = savedScale;
});

const notAborted = new AbortController().signal;

describe("runMain without Azure", () => {
  test("invalid inputs give one error per input, named as the host spells it, and change nothing", async () => {
    const host = new FakeHost({
      ...VALID,
      "container-app": "Shop_App",
      "traffic-steps": "10,abc",
    });
    const code = await runMain(host, notAborted);

    expect(code).toBe(1);
    expect(host.errors).toHaveLength(2);
    expect(host.errors[0]).toMatch(/^containerApp: "Shop_App" /);
    expect(host.errors[1]).toMatch(/^trafficSteps: /);
    expect(host.errors.join("\n")).not.toMatch(/container-app|traffic-steps/);
    expect(host.failed).toBe(
      "Invalid input: containerApp, trafficSteps. Nothing was changed in Azure.",
    );
    expect(host.credentialRequests).toBe(0);
    // A run that stops before Azure still sets `result` and writes its summary.
    expect(host.outputs.result).toBe("failed");
    expect(host.summary).toMatch(/failed/i);
  });

  test("a missing required input is named too", async () => {
    const host = new FakeHost({ ...VALID, "resource-group": "" });
    const code = await runMain(host, notAborted);

    expect(code).toBe(1);
    expect(host.errors).toEqual([expect.stringMatching(/^resourceGroup: is required/)]);
    expect(host.failed).toBe("Invalid input: resourceGroup. Nothing was changed in Azure.");
    expect(host.credentialRequests).toBe(0);
  });

  test.each(["fast", "2", "0"])(
    `an invalid ${TIME_SCALE_ENV} (%s) fails clearly before any credential is asked for`,
    async (value) => {
      process.env[TIME_SCALE_ENV] = value;
      const host = new FakeHost(VALID);
      const code = await runMain(host, notAborted);

      expect(code).toBe(1);
      expect(host.failed).toBe(
        `${TIME_SCALE_ENV} must be a number greater than 0 and at most 1, not "${value}". Nothing was changed in Azure.`,
      );
      expect(host.credentialRequests).toBe(0);
      // A run that stops before Azure still sets `result` and writes its summary.
      expect(host.outputs.result).toBe("failed");
      expect(host.summary).toMatch(/failed/i);
    },
  );

  test("a host that cannot give a credential fails the step before any call to Azure", async () => {
    const host = new FakeHost(VALID, () => {
      throw new Error(
        "client-id and tenant-id ask for OIDC, but the job cannot request an ID token.",
      );
    });
    const code = await runMain(host, notAborted);

    expect(code).toBe(1);
    expect(host.credentialRequests).toBe(1);
    expect(host.failed).toBe(
      "Could not set up Azure authentication: client-id and tenant-id ask for OIDC, but the job cannot request an ID token. Nothing was changed in Azure.",
    );
    // A run that stops before Azure still sets `result` and writes its summary.
    expect(host.outputs.result).toBe("failed");
    expect(host.summary).toMatch(/failed/i);
  });

  test("a creds secret is masked before anything else can log it", async () => {
    const secret = "s3cr3t~value";
    process.env[TIME_SCALE_ENV] = "fast";
    const host = new FakeHost({
      ...VALID,
      "subscription-id": "",
      creds: JSON.stringify({
        clientId: "11111111-1111-1111-1111-111111111111",
        clientSecret: secret,
        tenantId: "22222222-2222-2222-2222-222222222222",
        subscriptionId: "00000000-0000-0000-0000-000000000001",
      }),
    });
    const code = await runMain(host, notAborted);

    expect(code).toBe(1);
    expect(host.masked).toContain(secret);
    expect(host.failed).not.toContain(secret);
  });
});

/** A journal as this job's deploy saves it once traffic may have moved. */
function saveShiftingJournal(
  host: FakeHost,
  app: string,
  subscriptionId = VALID["subscription-id"],
): RunJournal {
  const journal = RunJournal.start(host.state, {
    subscriptionId,
    resourceGroup: VALID["resource-group"],
    app,
    // The post step runs as the main step of its job did.
    runId: host.context().runId,
    candidate: `${app}--v2`,
    createdCandidate: true,
    keepFailedRevision: false,
    before: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
    tags: { team: "shop" },
  });
  journal.recordWrite({ kind: "traffic", traffic: halfShifted(app) }, Date.now());
  return journal;
}

/** The traffic the journal of `saveShiftingJournal` says the run last wrote. */
function halfShifted(app: string) {
  return [
    { revisionName: `${app}--v1`, weight: 50, label: "blue" },
    { revisionName: `${app}--v2`, weight: 50, label: "green" },
  ];
}

/** The lease the main step's last write left on the app (the post step runs as the same run). */
function leaseOfMainStep(host: FakeHost, app: string): Record<string, string> {
  const { runId, holder } = host.context();
  return encodeLeaseTags({
    runId,
    holder,
    since: new Date().toISOString(),
    until: new Date(Date.now() + 3_600_000).toISOString(),
    candidate: `${app}--v2`,
    createdCandidate: true,
    before: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
    last: halfShifted(app),
  });
}

describe("runPost without Azure", () => {
  test("with no journal it does nothing and succeeds", async () => {
    const host = new FakeHost(VALID);
    expect(await runPost(host)).toBe(0);
    expect(host.failed).toBeUndefined();
    expect(host.credentialRequests).toBe(0);
  });

  test("with a settled journal it does nothing and succeeds", async () => {
    const host = new FakeHost(VALID);
    saveShiftingJournal(host, "shop").settle();
    expect(await runPost(host)).toBe(0);
    expect(host.failed).toBeUndefined();
    expect(host.credentialRequests).toBe(0);
  });

  test("with a journal of another version it fails, says why, and leaves the app to the operator", async () => {
    const host = new FakeHost(VALID);
    saveShiftingJournal(host, "shop");
    const saved = JSON.parse(host.state.load(JOURNAL_STATE_KEY)!) as Record<string, unknown>;
    host.state.save(JOURNAL_STATE_KEY, JSON.stringify({ ...saved, version: 0 }));

    expect(await runPost(host)).toBe(1);
    expect(host.failed).toBe(
      "The saved journal of this job has version 0, not 1; it was written by another version of aca-blue-green and is not used. Check the app's traffic by hand.",
    );
    expect(host.credentialRequests).toBe(0);
  });

  test("with a journal to restore but inputs that no longer validate, it fails naming the app", async () => {
    const host = new FakeHost({ ...VALID, "traffic-steps": "abc" });
    saveShiftingJournal(host, "shop");

    expect(await runPost(host)).toBe(1);
    expect(host.failed).toBe("Cannot restore shop: the inputs no longer validate.");
    expect(host.credentialRequests).toBe(0);
  });

  test("when it cannot authenticate, it fails with the command that restores by hand", async () => {
    const host = new FakeHost(VALID, () => {
      throw new Error("no identity for this job");
    });
    saveShiftingJournal(host, "shop");

    expect(await runPost(host)).toBe(1);
    expect(host.failed).toBe(
      "Restoring shop failed: no identity for this job. Set it by hand: az containerapp ingress traffic set -n shop -g rg-shop --revision-weight shop--v1=100",
    );
    expect(RunJournal.load(host.state)?.settled).toBe(false);
  });
});

describe("against the emulator", () => {
  let emulator: Emulator;
  const savedProxy = process.env.HTTPS_PROXY;

  beforeAll(async () => {
    emulator = await startEmulator({ provisioningDelayMs: 150, operationDelayMs: 100 });
    trustProcessWide(emulator.info);
    // Label URLs resolve only through the emulator's proxy, as in a rehearsal.
    process.env.HTTPS_PROXY = emulator.info.proxy;
  });
  afterAll(async () => {
    if (savedProxy === undefined) delete process.env.HTTPS_PROXY;
    else process.env.HTTPS_PROXY = savedProxy;
    await emulator?.stop();
  });
  beforeEach(() => {
    process.env[TIME_SCALE_ENV] = "0.05";
  });

  /** Inputs that reach the emulator, with a client secret in `creds`. */
  function emulatorInputs(app: string, given: Record<string, string> = {}) {
    const { info } = emulator;
    return {
      "resource-group": "rg-shop",
      "container-app": app,
      environment: "Custom",
      "arm-endpoint": info.arm,
      "authority-host": info.authorityHost,
      creds: JSON.stringify({
        clientId: info.clientId,
        clientSecret: info.clientSecret,
        tenantId: info.tenantId,
        subscriptionId: info.subscriptionId,
      }),
      ...given,
    };
  }

  /** The credential source the GitHub host derives from `creds`. */
  function fromCreds(inputs: Inputs): CredentialSource {
    const creds = inputs.auth.creds!;
    return { kind: "secret", ...creds };
  }

  function seed(app: string, extra: { tags?: Record<string, string> } = {}) {
    return emulator.seed({
      resourceGroup: "rg-shop",
      environment: "env-shop",
      app,
      revisions: [{ suffix: "v1", image: "emulator.test/app:healthy" }],
      traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
      ...extra,
    });
  }

  function expectNoSecret(host: FakeHost) {
    const secret = emulator.info.clientSecret;
    const seen = [
      ...host.lines,
      host.failed ?? "",
      host.summary ?? "",
      JSON.stringify(host.outputs),
      JSON.stringify([...host.state.values]),
    ];
    for (const text of seen) expect(text.includes(secret)).toBe(false);
  }

  test("a deploy runs to promoted and publishes its outputs and summary through the host", async () => {
    const app = "shop-main";
    const view = await seed(app);
    const host = new FakeHost(
      emulatorInputs(app, {
        image: "emulator.test/app:healthy-v2",
        "revision-suffix": "v2",
        "step-wait": "500ms",
        "check-interval": "250ms",
        "smoke-timeout": "10s",
        "readiness-timeout": "20s",
      }),
      fromCreds,
    );
    const after: string[] = [];
    const code = await runMain(host, notAborted, {
      after: async (_inputs, report) => void after.push(report.result),
    });

    expect(host.failed).toBeUndefined();
    expect(code).toBe(0);
    expect(host.credentialRequests).toBe(1);
    expect(host.masked).toContain(emulator.info.clientSecret);
    expect(host.outputs).toMatchObject({
      result: "promoted",
      revision: `${app}--v2`,
      "previous-revision": `${app}--v1`,
      "app-url": `https://${view.fqdn}`,
      image: "emulator.test/app:healthy-v2",
    });
    expect(JSON.parse(host.outputs.traffic)).toEqual([
      expect.objectContaining({ revisionName: `${app}--v2`, weight: 100, label: "blue" }),
    ]);
    expect(host.summary).toContain(`${app}--v2`);
    expect(host.summary).toContain("promoted");
    expect(after).toEqual(["promoted"]);

    const final = emulator.getApp("rg-shop", app);
    expect(final.traffic).toEqual([
      expect.objectContaining({ revisionName: `${app}--v2`, weight: 100, label: "blue" }),
    ]);
    expect(final.revisions.find((r) => r.name === `${app}--v1`)?.active).toBe(false);
    expect(final.tags[LEASE_TAG]).toBeUndefined();
    expect(RunJournal.load(host.state)?.settled).toBe(true);
    expectNoSecret(host);
  });

  test("a deploy whose smoke checks fail fails the step with its code and next steps, traffic untouched", async () => {
    const app = "shop-broken";
    await seed(app);
    const host = new FakeHost(
      emulatorInputs(app, {
        image: "emulator.test/app:http500",
        "revision-suffix": "v2",
        "smoke-timeout": "1s",
        "check-interval": "250ms",
        "readiness-timeout": "20s",
      }),
      fromCreds,
    );
    const code = await runMain(host, notAborted);

    expect(code).toBe(1);
    expect(host.outputs.result).toBe("failed-before-traffic");
    expect(host.failed).toMatch(/ \[SmokeChecksFailed\] Next: Fix the release and deploy again; /);
    expect(host.summary).toContain(`${app}--v2`);
    const final = emulator.getApp("rg-shop", app);
    expect(final.traffic).toEqual([
      expect.objectContaining({ revisionName: `${app}--v1`, weight: 100, label: "blue" }),
    ]);
    expect(final.revisions.find((r) => r.name === `${app}--v2`)?.active).toBe(false);
    expect(final.tags[LEASE_TAG]).toBeUndefined();
    expectNoSecret(host);
  });

  test("status publishes the app's state as the status output and its own summary", async () => {
    const app = "shop-status";
    await seed(app);
    const host = new FakeHost(emulatorInputs(app, { action: "status" }), fromCreds);
    const code = await runMain(host, notAborted);

    expect(code).toBe(0);
    expect(host.outputs.result).toBe("unchanged");
    const status = JSON.parse(host.outputs.status) as { app: string; traffic: unknown[] };
    expect(status.app).toBe(app);
    expect(status.traffic).toEqual([
      expect.objectContaining({ revisionName: `${app}--v1`, weight: 100, label: "blue" }),
    ]);
    expect(host.summary).toContain(`${app}--v1`);
  });

  test("runPost puts back the traffic and tags of a run that died mid-shift and deactivates its candidate", async () => {
    const app = "shop-post";
    const host = new FakeHost(
      emulatorInputs(app, { image: "emulator.test/app:healthy-v2" }),
      fromCreds,
    );
    await emulator.seed({
      resourceGroup: "rg-shop",
      environment: "env-shop",
      app,
      revisions: [
        { suffix: "v1", image: "emulator.test/app:healthy" },
        { suffix: "v2", image: "emulator.test/app:healthy-v2" },
      ],
      traffic: halfShifted(app),
      tags: { team: "shop", ...leaseOfMainStep(host, app) },
    });
    saveShiftingJournal(host, app, emulator.info.subscriptionId);
    const code = await runPost(host);

    expect(host.failed).toBeUndefined();
    expect(code).toBe(0);
    const final = emulator.getApp("rg-shop", app);
    expect(final.traffic).toEqual([
      expect.objectContaining({ revisionName: `${app}--v1`, weight: 100, label: "blue" }),
    ]);
    expect(final.revisions.find((r) => r.name === `${app}--v2`)?.active).toBe(false);
    expect(final.tags).toEqual({ team: "shop" });
    expect(RunJournal.load(host.state)?.settled).toBe(true);
    expectNoSecret(host);
  });

  test("runPost leaves an app someone else changed after the main step died, and says so", async () => {
    const app = "shop-post-changed";
    const host = new FakeHost(
      emulatorInputs(app, { image: "emulator.test/app:healthy-v2" }),
      fromCreds,
    );
    await emulator.seed({
      resourceGroup: "rg-shop",
      environment: "env-shop",
      app,
      revisions: [
        { suffix: "v1", image: "emulator.test/app:healthy" },
        { suffix: "v2", image: "emulator.test/app:healthy-v2" },
      ],
      // Not what the journal says the run wrote (50/50): someone else's split.
      traffic: [
        { revisionName: `${app}--v1`, weight: 80, label: "blue" },
        { revisionName: `${app}--v2`, weight: 20, label: "green" },
      ],
      tags: { team: "shop", ...leaseOfMainStep(host, app) },
    });
    const before = emulator.getApp("rg-shop", app);
    saveShiftingJournal(host, app, emulator.info.subscriptionId);
    const code = await runPost(host);

    expect(code).toBe(0);
    expect(host.failed).toBeUndefined();
    expect(host.lines).toContainEqual(
      expect.stringContaining(`Someone else changed the traffic of ${app} before the restore`),
    );
    const final = emulator.getApp("rg-shop", app);
    expect(final.traffic).toEqual(before.traffic);
    expect(final.revisions.find((r) => r.name === `${app}--v2`)?.active).toBe(true);
    expect(final.tags.team).toBe("shop");
    expect(RunJournal.load(host.state)?.settled).toBe(true);
    expectNoSecret(host);
  });
});
