/**
 * The Azure Pipelines host under azure-pipelines-task-lib's MockTestRunner, on the local Node: a
 * CommonJS build of the host is driven by fixtures/probe.cjs in an agent-like environment, and
 * what it answered is compared with what the agent set.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MockTestRunner } from "azure-pipelines-task-lib/mock-test.js";
import { build } from "esbuild";
import type { CredentialSource } from "../../src/azure/credentials.ts";
import { INPUTS, taskInputName } from "../../src/core/inputs/schema.ts";
import type { RunContext } from "../../src/core/ports.ts";
import type { InputError, Inputs } from "../../src/core/types.ts";
import {
  parseCommands,
  recordOf,
  serviceConnectionEnv,
  systemAccessTokenEnv,
  taskVariableEnv,
  type ServiceConnection,
  type StepRecord,
  type VsoCommand,
} from "./agentEnvironment.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const FIXTURES = join(import.meta.dirname, "fixtures");

const CONNECTION_ID = "0d3c8e0a-9f1b-4e55-a1c2-7b6d5e4f3a21";
const TENANT_ID = "72c5d4e1-0f3b-4d8a-9e6b-5a1c2d3e4f50";
const CLIENT_ID = "1f0e9d8c-7b6a-4c5d-8e4f-3a2b1c0d9e8f";
const SUBSCRIPTION_ID = "5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716";
const ACCESS_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.system-access-token.signature";
const PUBLIC_CLOUD = {
  url: "https://management.azure.com/",
  data: {
    subscriptionId: SUBSCRIPTION_ID,
    subscriptionName: "Shop production",
    environment: "AzureCloud",
    activeDirectoryAuthority: "https://login.microsoftonline.com/",
    environmentAuthorityUrl: "https://login.windows.net/",
  },
};

/** Every variable the host reads for its run context, blank unless a scenario sets it. */
const NO_RUN = Object.fromEntries(
  [
    "SYSTEM_COLLECTIONURI",
    "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI",
    "SYSTEM_TEAMPROJECT",
    "SYSTEM_JOBID",
    "SYSTEM_JOBATTEMPT",
    "BUILD_BUILDID",
    "BUILD_BUILDNUMBER",
    "BUILD_DEFINITIONNAME",
    "BUILD_REQUESTEDFOR",
    "BUILD_SOURCEVERSION",
    "BUILD_REPOSITORY_URI",
    "RELEASE_RELEASEID",
    "RELEASE_RELEASENAME",
    "RELEASE_DEFINITIONNAME",
    "RELEASE_ENVIRONMENTNAME",
    "RELEASE_ATTEMPTNUMBER",
    "RELEASE_REQUESTEDFOR",
    "RELEASE_RELEASEWEBURL",
  ].map((name) => [name, ""]),
);

const DEPLOY_INPUTS = {
  resourceGroup: "rg-shop",
  containerApp: "shop",
  image: "myregistry.azurecr.io/shop:1.4.2",
};

function workloadIdentity(extra: Partial<ServiceConnection> = {}): ServiceConnection {
  return {
    id: CONNECTION_ID,
    scheme: "WorkloadIdentityFederation",
    ...PUBLIC_CLOUD,
    authorization: {
      tenantid: TENANT_ID,
      serviceprincipalid: CLIENT_ID,
      workloadIdentityIssuer: "https://vstoken.dev.azure.com/00000000-0000-0000-0000-000000000000",
    },
    ...extra,
  };
}

interface ProbeReport {
  inputs: Record<string, string | null>;
  validation: { ok: true; inputs: Inputs } | { ok: false; errors: InputError[] };
  source?: CredentialSource;
  credentialError?: string;
  context: RunContext;
  earlierState: string | null;
  savedState: string | null;
}

interface Probe {
  runner: MockTestRunner;
  report: ProbeReport;
  commands: VsoCommand[];
  record: StepRecord;
  stdout: string;
}

interface Scenario {
  inputs?: Record<string, string>;
  /** Undefined: no azureSubscription input at all. */
  connection?: ServiceConnection;
  env?: Record<string, string>;
  /** The probe ends with setFailed(failure) instead of completing. */
  failure?: string;
}

let workDir: string;
let hostBundle: string;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), "aca-bg-ado-host-"));
  hostBundle = join(workDir, "host.cjs");
  // The mocked task library replaces whatever requires exactly "azure-pipelines-task-lib/task".
  await build({
    stdin: {
      contents: [
        `export { AzurePipelinesHost } from "./src/hosts/azurePipelines.ts";`,
        `export { readInputs } from "./src/core/inputs/validate.ts";`,
        `export { INPUTS } from "./src/core/inputs/schema.ts";`,
      ].join("\n"),
      resolveDir: ROOT,
      loader: "ts",
    },
    outfile: hostBundle,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    logLevel: "error",
    plugins: [
      {
        name: "mocked-task-lib",
        setup(build) {
          build.onResolve({ filter: /^azure-pipelines-task-lib\/task(\.js)?$/ }, () => ({
            path: "azure-pipelines-task-lib/task",
            external: true,
          }));
        },
      },
    ],
  });
});

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

async function probe(scenario: Scenario): Promise<Probe> {
  const agentTemp = mkdtempSync(join(workDir, "agent-"));
  const { connection } = scenario;
  const env = {
    ...NO_RUN,
    AGENT_TEMPDIRECTORY: agentTemp,
    ...(connection && serviceConnectionEnv(connection)),
    ...scenario.env,
  };
  const inputs = {
    ...(connection && { azureSubscription: connection.id }),
    ...scenario.inputs,
  };
  // MockTestRunner starts its entry with the worker's real environment, which a test cannot
  // change, so each run gets an entry of its own that sets the scenario up first.
  const entry = join(agentTemp, "entry.cjs");
  writeFileSync(
    entry,
    [
      `process.env.ACA_PROBE_HOST = ${JSON.stringify(hostBundle)};`,
      `process.env.ACA_PROBE_SCENARIO = ${JSON.stringify(JSON.stringify({ env, inputs, failure: scenario.failure }))};`,
      `require(${JSON.stringify(join(FIXTURES, "runProbe.cjs"))});`,
    ].join("\n"),
  );
  const runner = new MockTestRunner(entry);
  // Without a node path MockTestRunner downloads a Node build; the local one is the runtime.
  runner.nodePath = process.execPath;
  await runner.runAsync();
  const line = runner.stdout.split(/\r?\n/).find((text) => text.startsWith("ACA_PROBE "));
  if (!line) throw new Error(`The probe printed no report.\n${runner.stdout}\n${runner.stderr}`);
  const commands = parseCommands(runner.stdout);
  return {
    runner,
    report: JSON.parse(line.slice("ACA_PROBE ".length)) as ProbeReport,
    commands,
    record: recordOf(commands),
    stdout: runner.stdout,
  };
}

function validInputs(report: ProbeReport): Inputs {
  if (!report.validation.ok) {
    throw new Error(`Inputs did not validate: ${JSON.stringify(report.validation.errors)}`);
  }
  return report.validation.inputs;
}

describe("Given a workload identity federation service connection", () => {
  test("the task's camelCase inputs and the connection answer every schema input, and they validate", async () => {
    const { report, runner } = await probe({
      connection: workloadIdentity(),
      env: systemAccessTokenEnv(ACCESS_TOKEN),
      inputs: {
        ...DEPLOY_INPUTS,
        action: "deploy",
        revisionSuffix: "v2",
        candidateLabel: "canary",
        trafficSteps: "10,50,100",
        stepWait: "90s",
        smokePath: "/healthz",
        checkInterval: "5s",
        deactivatePrevious: "false",
        dryRun: "true",
        // Named like GitHub-only inputs: the service connection replaces them, so they are not read.
        creds: '{"clientId":"x"}',
        clientId: "3a3a3a3a-3a3a-4a3a-8a3a-3a3a3a3a3a3a",
      },
    });
    expect(runner.stderr).toBe("");
    expect(report.inputs).toMatchObject({
      action: "deploy",
      "subscription-id": SUBSCRIPTION_ID,
      "resource-group": "rg-shop",
      "container-app": "shop",
      image: "myregistry.azurecr.io/shop:1.4.2",
      "revision-suffix": "v2",
      "candidate-label": "canary",
      "production-label": null,
      "traffic-steps": "10,50,100",
      "step-wait": "90s",
      "smoke-path": "/healthz",
      "check-interval": "5s",
      "deactivate-previous": "false",
      "dry-run": "true",
      environment: "AzureCloud",
      "arm-endpoint": "https://management.azure.com/",
      "authority-host": "https://login.microsoftonline.com/",
      "client-id": null,
      "tenant-id": null,
      creds: null,
    });
    expect(validInputs(report)).toMatchObject({
      action: "deploy",
      subscriptionId: SUBSCRIPTION_ID,
      resourceGroup: "rg-shop",
      containerApp: "shop",
      revisionSuffix: "v2",
      candidateLabel: "canary",
      productionLabel: "blue",
      trafficSteps: [10, 50, 100],
      stepWaitMs: 90_000,
      checkIntervalMs: 5_000,
      deactivatePrevious: false,
      dryRun: true,
      auth: {
        cloud: "AzureCloud",
        armEndpoint: "https://management.azure.com/",
        authorityHost: "https://login.microsoftonline.com/",
      },
    });
    expect(validInputs(report).auth.creds).toBeUndefined();
    expect(validInputs(report).auth.clientId).toBeUndefined();
  });

  test("the credential is the connection's federated identity with the job's access token, masked", async () => {
    const { report, record, runner } = await probe({
      connection: workloadIdentity(),
      env: systemAccessTokenEnv(ACCESS_TOKEN),
      inputs: DEPLOY_INPUTS,
    });
    expect(report.source).toEqual({
      kind: "azure-pipelines",
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      serviceConnectionId: CONNECTION_ID,
      systemAccessToken: ACCESS_TOKEN,
    });
    expect(record.secrets).toContain(ACCESS_TOKEN);
    expect(runner.succeeded).toBe(true);
  });

  test("a secret input is masked as soon as it is read", async () => {
    const secret = INPUTS.find((input) => input.secret && !input.githubOnly);
    if (secret === undefined) throw new Error("The schema has no secret input the task offers.");
    const value = "registry-token-4711";
    const { report, record } = await probe({
      connection: workloadIdentity(),
      env: systemAccessTokenEnv(ACCESS_TOKEN),
      inputs: { ...DEPLOY_INPUTS, [taskInputName(secret.name)]: value },
    });
    expect(report.inputs[secret.name]).toBe(value);
    expect(record.secrets).toContain(value);
  });

  test("the task's subscriptionId wins over the connection's subscription", async () => {
    const other = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";
    const { report } = await probe({
      connection: workloadIdentity(),
      env: systemAccessTokenEnv(ACCESS_TOKEN),
      inputs: { ...DEPLOY_INPUTS, subscriptionId: other },
    });
    expect(validInputs(report).subscriptionId).toBe(other);
  });

  test("without the job's access token, the credential fails naming what is missing", async () => {
    const { report } = await probe({ connection: workloadIdentity(), inputs: DEPLOY_INPUTS });
    expect(report.source).toBeUndefined();
    expect(report.credentialError).toMatch(/access token/);
    expect(report.credentialError).toContain(CONNECTION_ID);
  });

  test("without the connection's client ID, the credential fails naming the missing field", async () => {
    const { report } = await probe({
      connection: workloadIdentity({ authorization: { tenantid: TENANT_ID } }),
      env: systemAccessTokenEnv(ACCESS_TOKEN),
      inputs: DEPLOY_INPUTS,
    });
    expect(report.credentialError).toMatch(/has no serviceprincipalid/);
  });
});

describe("Given a service principal service connection", () => {
  test("with a secret, the credential is a client secret and the secret is masked", async () => {
    const secret = "sp~Secret.Value_4711";
    const { report, record } = await probe({
      connection: {
        id: CONNECTION_ID,
        scheme: "ServicePrincipal",
        ...PUBLIC_CLOUD,
        authorization: {
          tenantid: TENANT_ID,
          serviceprincipalid: CLIENT_ID,
          authenticationType: "spnKey",
          serviceprincipalkey: secret,
        },
      },
      inputs: DEPLOY_INPUTS,
    });
    expect(report.source).toEqual({
      kind: "secret",
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      clientSecret: secret,
    });
    expect(record.secrets).toContain(secret);
  });

  test("with a certificate, the credential is the PEM and every line of its key is masked", async () => {
    const body = [
      "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
      "b2p3c4k5Zm9vYmFyYmF6cXV4",
    ];
    const certificate = ["MIIDazCCAlOgAwIBAgIUJ0x9E2Q", "aGVsbG8gd29ybGQ="];
    const pem = [
      "-----BEGIN PRIVATE KEY-----",
      ...body,
      "-----END PRIVATE KEY-----",
      "-----BEGIN CERTIFICATE-----",
      ...certificate,
      "-----END CERTIFICATE-----",
      "",
    ].join("\n");
    const { report, record, runner } = await probe({
      connection: {
        id: CONNECTION_ID,
        scheme: "ServicePrincipal",
        ...PUBLIC_CLOUD,
        authorization: {
          tenantid: TENANT_ID,
          serviceprincipalid: CLIENT_ID,
          authenticationType: "spnCertificate",
          servicePrincipalCertificate: pem,
        },
      },
      inputs: DEPLOY_INPUTS,
    });
    expect(runner.stderr).toBe("");
    expect(report.source).toEqual({
      kind: "certificate",
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      certificatePem: pem,
    });
    expect(record.secrets).toEqual(expect.arrayContaining([...body, ...certificate]));
    expect(record.secrets.some((secret) => secret.includes("-----"))).toBe(false);
  });
});

describe("Given a managed identity service connection", () => {
  test("with a client ID, the credential is that user-assigned identity", async () => {
    const { report } = await probe({
      connection: {
        id: CONNECTION_ID,
        scheme: "ManagedServiceIdentity",
        ...PUBLIC_CLOUD,
        data: { ...PUBLIC_CLOUD.data, msiclientId: CLIENT_ID },
      },
      inputs: DEPLOY_INPUTS,
    });
    expect(report.source).toEqual({ kind: "managed-identity", clientId: CLIENT_ID });
  });

  test("without one, the credential is the agent's system-assigned identity", async () => {
    const { report } = await probe({
      connection: { id: CONNECTION_ID, scheme: "ManagedServiceIdentity", ...PUBLIC_CLOUD },
      inputs: DEPLOY_INPUTS,
    });
    expect(report.source).toEqual({ kind: "managed-identity" });
  });
});

describe("Given no usable service connection", () => {
  test("when the agent passes no connection by that ID, the credential fails naming it, and the subscription is missing", async () => {
    const { report } = await probe({
      connection: { id: CONNECTION_ID },
      inputs: DEPLOY_INPUTS,
    });
    expect(report.credentialError).toMatch(/was not found, or this pipeline is not allowed/);
    expect(report.credentialError).toContain(CONNECTION_ID);
    expect(report.validation.ok).toBe(false);
    if (!report.validation.ok) {
      expect(report.validation.errors.map((error) => error.input)).toEqual(["subscription-id"]);
    }
  });

  test("when the connection uses a scheme the task cannot sign in with, the credential fails naming it", async () => {
    const { report } = await probe({
      connection: { id: CONNECTION_ID, scheme: "PublishProfile", ...PUBLIC_CLOUD },
      inputs: DEPLOY_INPUTS,
    });
    expect(report.credentialError).toContain('"PublishProfile"');
    expect(report.credentialError).toContain(
      "WorkloadIdentityFederation, ServicePrincipal, ManagedServiceIdentity",
    );
  });

  test("when azureSubscription is not given, the credential fails naming the input", async () => {
    const { report } = await probe({ inputs: DEPLOY_INPUTS });
    expect(report.credentialError).toMatch(/^azureSubscription is required/);
    expect(report.inputs.environment).toBeNull();
  });
});

describe("Given connections to each Azure cloud", () => {
  test.each([
    [
      "AzureUSGovernment",
      "https://management.usgovcloudapi.net/",
      "https://login.microsoftonline.us/",
      "AzureUSGovernment",
    ],
    [
      "AzureChinaCloud",
      "https://management.chinacloudapi.cn/",
      "https://login.chinacloudapi.cn/",
      "AzureChinaCloud",
    ],
    [
      "AzureStack",
      "https://management.local.azurestack.external/",
      "https://login.microsoftonline.com/",
      "Custom",
    ],
  ])(
    "a %s connection gives its endpoints, validated as one shape",
    async (environment, url, authority, cloud) => {
      const { report } = await probe({
        connection: {
          id: CONNECTION_ID,
          scheme: "ServicePrincipal",
          url,
          authorization: {
            tenantid: TENANT_ID,
            serviceprincipalid: CLIENT_ID,
            serviceprincipalkey: "k",
          },
          data: {
            subscriptionId: SUBSCRIPTION_ID,
            environment,
            environmentAuthorityUrl: authority,
          },
        },
        inputs: DEPLOY_INPUTS,
      });
      expect(report.inputs).toMatchObject({
        environment: cloud,
        "arm-endpoint": url,
        "authority-host": authority,
      });
      expect(validInputs(report).auth).toEqual({
        cloud,
        armEndpoint: url,
        authorityHost: authority,
      });
    },
  );
});

describe("Given a run of a pipeline on the agent", () => {
  const BUILD = {
    SYSTEM_COLLECTIONURI: "https://dev.azure.com/contoso/",
    SYSTEM_TEAMPROJECT: "webapp",
    SYSTEM_JOBID: "12f1170f-54f2-53f3-20dd-22fc7dff55f9",
    SYSTEM_JOBATTEMPT: "2",
    BUILD_BUILDID: "4711",
    BUILD_BUILDNUMBER: "20261127.3",
    BUILD_DEFINITIONNAME: "shop-deploy",
    BUILD_REQUESTEDFOR: "Ada Lovelace",
    BUILD_SOURCEVERSION: "0123456789abcdef0123456789abcdef01234567",
    BUILD_REPOSITORY_URI: "https://contoso@dev.azure.com/contoso/webapp/_git/shop",
  };

  async function probeRun(extra: Scenario = {}) {
    return probe({
      connection: workloadIdentity(),
      inputs: DEPLOY_INPUTS,
      ...extra,
      env: { ...systemAccessTokenEnv(ACCESS_TOKEN), ...BUILD, ...extra.env },
    });
  }

  test("the run context names the pipeline run, its job and attempt, its commit and repository", async () => {
    const { report } = await probeRun();
    expect(report.context).toEqual({
      runId: "azure-pipelines:webapp/4711/12f1170f-54f2-53f3-20dd-22fc7dff55f9/2",
      // Attempts of one job share a lineage: a re-run takes over its earlier attempt's lease.
      lineage: {
        key: "azure-pipelines:webapp/4711/12f1170f-54f2-53f3-20dd-22fc7dff55f9",
        attempt: 2,
      },
      holder: 'pipeline "shop-deploy" run 20261127.3 attempt 2 in webapp by Ada Lovelace',
      runUrl: "https://dev.azure.com/contoso/webapp/_build/results?buildId=4711",
      commitSha: BUILD.BUILD_SOURCEVERSION,
      repositoryUrl: "https://dev.azure.com/contoso/webapp/_git/shop",
    });
  });

  test("in a classic release, the run context names the release and its stage", async () => {
    const { report } = await probeRun({
      env: {
        RELEASE_RELEASEID: "88",
        RELEASE_RELEASENAME: "Release-88",
        RELEASE_DEFINITIONNAME: "Shop",
        RELEASE_ENVIRONMENTNAME: "Production",
        RELEASE_ATTEMPTNUMBER: "1",
        RELEASE_REQUESTEDFOR: "Grace Hopper",
        RELEASE_RELEASEWEBURL: "https://dev.azure.com/contoso/webapp/_release?releaseId=88",
      },
    });
    expect(report.context).toEqual({
      runId: "azure-pipelines:webapp/release/88/1/12f1170f-54f2-53f3-20dd-22fc7dff55f9",
      holder:
        'release "Release-88" of "Shop", stage "Production" attempt 1 in webapp by Grace Hopper',
      runUrl: "https://dev.azure.com/contoso/webapp/_release?releaseId=88",
      commitSha: BUILD.BUILD_SOURCEVERSION,
      repositoryUrl: "https://dev.azure.com/contoso/webapp/_git/shop",
    });
  });

  test("outside a pipeline, the run context is a local one", async () => {
    const { report } = await probe({ connection: workloadIdentity(), inputs: DEPLOY_INPUTS });
    expect(report.context.runId).toMatch(/^local:/);
    expect(report.context.runUrl).toBeUndefined();
  });

  test("outputs become output variables under the task's camelCase names", async () => {
    const { record, commands } = await probeRun();
    expect(record.outputs).toEqual({
      result: "promoted",
      revision: "shop--v2",
      previousRevision: "shop--v1",
      labelUrl: "https://shop---green.example.io",
    });
    const outputCommands = commands.filter((c) => c.command === "task.setvariable");
    for (const command of outputCommands) expect(command.properties.issecret).toBe("false");
  });

  test("log groups, warnings and debug lines use the agent's formats, and logged text cannot issue commands", async () => {
    const { stdout, record, commands } = await probeRun();
    const lines = stdout.split(/\r?\n/);
    const start = lines.indexOf("##[group]Shift traffic");
    expect(start).toBeGreaterThanOrEqual(0);
    expect(lines.slice(start + 1, start + 4)).toEqual([
      "[1/2] 10% to the candidate",
      "the app answered ##\u200bvso[task.setvariable variable=injected]oops",
      "##[endgroup]",
    ]);
    expect(commands.some((c) => c.properties.variable === "injected")).toBe(false);
    expect(record.issues).toContainEqual({
      type: "warning",
      message: "The lease of another run expired",
    });
    expect(commands).toContainEqual({
      command: "task.debug",
      properties: {},
      message: "a debug line",
    });
  });

  test("the summary is a Markdown file in the agent's temp folder, uploaded to the run", async () => {
    const { record } = await probeRun();
    expect(record.summaries).toHaveLength(1);
    const [file] = record.summaries;
    expect(file.startsWith(workDir)).toBe(true);
    expect(file.endsWith(".md")).toBe(true);
    expect(readFileSync(file, "utf8")).toContain("## Promoted shop--v2");
  });

  test("state is kept in task variables, which the post-job step reads back", async () => {
    const earlier = JSON.stringify({ phase: "shifting", app: "shop" });
    const { report, record } = await probeRun({
      env: { ...taskVariableEnv({ aca_blue_green_journal: earlier }) },
    });
    expect(report.earlierState).toBe(earlier);
    expect(record.taskVariables).toEqual({
      aca_blue_green_journal: JSON.stringify({ phase: "shifting" }),
    });
    expect(report.savedState).toBe(JSON.stringify({ phase: "shifting" }));
  });

  test("a successful step completes with the result it published", async () => {
    const { runner, record } = await probeRun();
    expect(runner.succeeded).toBe(true);
    expect(record.result).toEqual({ result: "Succeeded", message: "Result: promoted (shop--v2)" });
  });

  test("a failed step completes as failed, with the reason as an error", async () => {
    const reason = "Smoke checks failed on shop--v2: GET /healthz answered 500.";
    const { runner, record } = await probeRun({ failure: reason });
    expect(runner.failed).toBe(true);
    expect(runner.errorIssues).toContain(reason);
    expect(record.result).toEqual({ result: "Failed", message: reason });
  });
});
