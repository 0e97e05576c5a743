/**
 * Bad input, end to end: the real bundle exits 1 with a message naming the input, and the
 * emulator's journal shows no write to Azure — not even a read.
 */
import type { Emulator } from "../../emulator/types.ts";
import { armWrites, image, runAction, seedApp, startWorld, visibleLog } from "./harness.ts";

let emulator: Emulator;
const APP = "shop-inputs";

beforeAll(async () => {
  emulator = await startWorld();
  await seedApp(emulator, APP);
});
afterAll(async () => {
  await emulator?.stop();
});

const valid = { "container-app": APP, image: image("healthy"), "revision-suffix": "v2" };

/** [input, bad value] — several kinds of wrong for each input. */
const cases: [string, string][] = [
  ["action", "deploy-now"],
  ["action", "DELETE"],
  ["subscription-id", "not-a-guid"],
  ["subscription-id", "12345678-1234-1234-1234-12345678901"],
  ["resource-group", "bad/group"],
  ["resource-group", "ends-with-dot."],
  ["resource-group", "x".repeat(91)],
  ["container-app", "Shop"],
  ["container-app", "shop--app"],
  ["container-app", "a".repeat(33)],
  ["container-app", "-shop"],
  ["image", "has space:1"],
  ["image", "Registry/Repo:1"],
  ["image", "repo@sha256:abc"],
  ["container-name", "Bad_Name"],
  ["revision-suffix", "UPPER"],
  ["revision-suffix", "two--dashes"],
  ["revision-suffix", "x".repeat(60)],
  ["revision-suffix", "ends-"],
  ["candidate-label", "Green"],
  ["candidate-label", "blue"],
  ["production-label", "pro_d"],
  ["previous-label", "-prev"],
  ["traffic-steps", "10,5,100"],
  ["traffic-steps", "10,50"],
  ["traffic-steps", "0,100"],
  ["traffic-steps", "ten,100"],
  ["traffic-steps", "50,150"],
  ["step-wait", "soon"],
  ["step-wait", "-5s"],
  ["smoke-checks", "- path: health"],
  ["smoke-checks", "- path: /\n  status: 2xx"],
  ["smoke-checks", "- path: /\n  colour: red"],
  ["smoke-checks", "- path: /\n  body-regex: '(unclosed'"],
  ["smoke-checks", "{ not: a list }"],
  ["smoke-path", "health"],
  ["smoke-timeout", "1 fortnight"],
  ["check-interval", "x"],
  ["readiness-timeout", "10q"],
  ["deactivate-previous", "yes"],
  ["scale-down-delay", "later"],
  ["keep-failed-revision", "1"],
  ["client-id", "abc"],
  ["tenant-id", "abc"],
  ["audience", "api://Azure AD"],
  ["creds", "{not json"],
  ["creds", '{"clientId":"00000000-0000-0000-0000-000000000001"}'],
  ["environment", "AzureMars"],
  ["arm-endpoint", "ftp://arm.example"],
  ["arm-endpoint", "not a url"],
  ["authority-host", "http://login.example"],
  ["dry-run", "maybe"],
  ["registry", "myacr.azurecr.io"],
  ["registry-identity", "system"],
  ["build-context", "./app"],
];

/** Cases that need the rest of a valid build from source around them. */
const buildCases: [string, string][] = [
  ["build-context", "   "],
  ["build-args", "not a pair"],
  ["build-args", "1BAD=x"],
  ["registry", "https://myacr.azurecr.io"],
  ["registry", "my registry"],
  ["image-name", "shop:1.0"],
  ["image-name", "Shop"],
  ["image-tag", "-bad"],
  ["image-tag", "x".repeat(129)],
  ["registry-username", "deployer"],
  ["registry-password", "only-a-password"],
  ["builder", "kaniko"],
  ["builder", "acr"],
  ["registry-identity", "my-identity"],
];
const buildBase = {
  image: "",
  "build-context": "./app",
  registry: "registry.example.com",
  "image-name": "shop",
};

/** Inputs wrong in combination with others. */
const combinationCases: [Record<string, string>, string][] = [
  [{ dockerfile: "Dockerfile" }, "dockerfile"],
  [{ "image-tag": "v2" }, "image-tag"],
  [{ "auto-promote": "sometimes" }, "auto-promote"],
  [{ "auto-promote": "false", "hold-at": "100" }, "hold-at"],
  [{ "auto-promote": "false", "hold-at": "ten" }, "hold-at"],
  [{ "hold-at": "10" }, "hold-at"],
  [{ action: "rollback", "rollback-to": "Bad--Name" }, "rollback-to"],
  [{ action: "rollback", "rollback-to": "other-app--v1--x" }, "rollback-to"],
  [{ action: "rollback", "skip-checks": "please" }, "skip-checks"],
  [{ "client-id": "", "tenant-id": "", audience: "api://AzureADTokenExchange" }, "audience"],
];

describe("Given an app and a run with one bad input", () => {
  test.each(cases)(
    "when %s is %p, the run exits 1 naming it and Azure is never called",
    async (input, value) => {
      emulator.clearJournal();
      const run = await runAction(emulator, { inputs: { ...valid, [input]: value } });
      expect(run.exitCode).toBe(1);
      const errors = run.lines.filter((l) => l.text.startsWith("::error::")).map((l) => l.text);
      expect(errors.some((line) => line.includes(input))).toBe(true);
      expect(armWrites(emulator)).toEqual([]);
      expect(emulator.armJournal()).toEqual([]);
    },
  );

  test.each(buildCases)(
    "when %s is %p in a build from source, the run exits 1 naming it and Azure is never called",
    async (input, value) => {
      emulator.clearJournal();
      const run = await runAction(emulator, { inputs: { ...valid, ...buildBase, [input]: value } });
      expect(run.exitCode).toBe(1);
      const errors = run.lines.filter((l) => l.text.startsWith("::error::")).map((l) => l.text);
      expect(errors.some((line) => line.includes(input))).toBe(true);
      expect(emulator.armJournal()).toEqual([]);
    },
  );

  test.each(combinationCases)(
    "when the inputs are %p, the run exits 1 naming %s and Azure is never called",
    async (given, input) => {
      emulator.clearJournal();
      const run = await runAction(emulator, { inputs: { ...valid, ...given } });
      expect(run.exitCode).toBe(1);
      const errors = run.lines.filter((l) => l.text.startsWith("::error::")).map((l) => l.text);
      expect(errors.some((line) => line.includes(input))).toBe(true);
      expect(emulator.armJournal()).toEqual([]);
    },
  );

  test("when several inputs are bad, every one is reported in one run", async () => {
    emulator.clearJournal();
    const run = await runAction(emulator, {
      inputs: { ...valid, "traffic-steps": "50,10", "step-wait": "x", "dry-run": "perhaps" },
    });
    expect(run.exitCode).toBe(1);
    for (const input of ["traffic-steps", "step-wait", "dry-run"])
      expect(run.stdout).toContain(input);
    expect(emulator.armJournal()).toEqual([]);
  });

  test("when creds carries a secret and is malformed, the secret never reaches the log", async () => {
    const secret = "s3cr3t-value-that-must-not-leak";
    const run = await runAction(emulator, {
      inputs: {
        ...valid,
        "client-id": "",
        "tenant-id": "",
        creds: `{"clientId":"x","clientSecret":"${secret}","tenantId":`,
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("creds");
    // The runner consumes `::add-mask::` (the malformed value is masked whole before it is read);
    // everything it shows, and the summary, must not carry the secret.
    expect(visibleLog(run)).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
    expect(run.summary).not.toContain(secret);
    expect(
      run.lines.filter((line) => line.text.includes(secret)).map((line) => line.text.slice(0, 13)),
    ).toEqual(["::add-mask::{"]);
    expect(emulator.armJournal()).toEqual([]);
  });

  test("when audience is not the federated credential's, Entra ID refuses the token and nothing is written", async () => {
    emulator.clearJournal();
    const run = await runAction(emulator, {
      inputs: { ...valid, audience: "api://AzureADTokenExchangeUSGov" },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("token audience api://AzureADTokenExchangeUSGov");
    expect(run.stdout).toContain("Assertion Audience: 'api://AzureADTokenExchangeUSGov'");
    expect(armWrites(emulator)).toEqual([]);
  });
});
