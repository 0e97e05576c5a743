/**
 * Bad input, end to end on both hosts: the real bundle exits 1 with a message naming the input as
 * its users spell it, and the emulator's journal shows no call to Azure — not even a read. Inputs
 * the task's service connection replaces are the Action's alone.
 */
import { ACTION_ONLY, NODE20, e2e, type Scenario } from "./fixtures/e2e.ts";
import type { Then } from "./fixtures/then.ts";
import { image } from "./harness.ts";

const APP = "shop-inputs";
const valid = { image: image("healthy"), "revision-suffix": "v2" };

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

/**
 * When a run with `inputs` starts, then it fails before any call to Azure, saying so, with an
 * error that names `input` as the host's users spell it.
 */
function rejects(
  s: Scenario,
  inputs: Record<string, string>,
  input: string,
  more: (then: Then) => Then = (then) => then,
): Then {
  return more(
    s
      .given()
      .sharedApp(APP)
      .when()
      .runs(inputs, { timed: false })
      .then()
      .expectFailed(/^Invalid input: .+\. Nothing was changed in Azure\.$/)
      .expectErrorNaming(input)
      .expectNoAzureCalls(),
  ).expectInvariantsAsSeeded();
}

e2e((scenario, host) => {
  const accepted = (inputs: Record<string, string>) => Object.keys(inputs).every(host.accepts);

  describe("Given an app and a run with one bad input", () => {
    scenario.each(cases.filter(([input]) => host.accepts(input)))(
      "when %s is %p, the run exits 1 naming it and Azure is never called",
      (s, input, value) => rejects(s, { ...valid, [input]: value }, input),
    );

    scenario.each(buildCases.filter(([input]) => host.accepts(input)))(
      "when %s is %p in a build from source, the run exits 1 naming it and Azure is never called",
      (s, input, value) => rejects(s, { ...valid, ...buildBase, [input]: value }, input),
    );

    scenario.each(combinationCases.filter(([given]) => accepted(given)))(
      "when the inputs are %p, the run exits 1 naming %s and Azure is never called",
      (s, given, input) => rejects(s, { ...valid, ...given }, input),
    );

    scenario(
      "when traffic-steps is not rising, the step fails with one message that names it and says nothing was changed",
      (s) =>
        rejects(s, { ...valid, "traffic-steps": "50,10" }, "traffic-steps", (then) =>
          then.expectRun((run, ctx) => {
            const name = ctx.host.input("traffic-steps");
            expect(run.failure).toBe(`Invalid input: ${name}. Nothing was changed in Azure.`);
            expect(run.errors.some((error) => error.startsWith(`${name}:`))).toBe(true);
          }),
        ),
      NODE20,
    );

    scenario("when several inputs are bad, every one is reported in one run", (s) =>
      s
        .given()
        .sharedApp(APP)
        .when()
        .runs(
          { ...valid, "traffic-steps": "50,10", "step-wait": "x", "dry-run": "perhaps" },
          { timed: false },
        )
        .then()
        .expectFailed(/^Invalid input: /)
        .expectLogNamesInputs("traffic-steps", "step-wait", "dry-run")
        .expectNoAzureCalls()
        .expectInvariantsAsSeeded(),
    );

    scenario(
      "when creds carries a secret and is malformed, the secret never reaches the log",
      (s) => {
        const secret = "s3cr3t-value-that-must-not-leak";
        return (
          s
            .given()
            .sharedApp(APP)
            .when()
            .runs(
              {
                ...valid,
                "client-id": "",
                "tenant-id": "",
                creds: `{"clientId":"x","clientSecret":"${secret}","tenantId":`,
              },
              { timed: false },
            )
            .then()
            .expectFailed()
            .expectLog("creds")
            // The malformed value is masked whole before it is read; the runner consumes that
            // registration, and no line it shows carries the secret.
            .expectLogHides(secret)
            .expectNoAzureCalls()
            .expectInvariantsAsSeeded()
        );
      },
      ACTION_ONLY,
    );

    scenario(
      "when audience is not the federated credential's, Entra ID refuses the token and nothing is written",
      (s) =>
        s
          .given()
          .sharedApp(APP)
          .when()
          .runs({ ...valid, audience: "api://AzureADTokenExchangeUSGov" }, { timed: false })
          .then()
          .expectFailed()
          .expectLog(
            "token audience api://AzureADTokenExchangeUSGov",
            "Assertion Audience: 'api://AzureADTokenExchangeUSGov'",
          )
          .expectNoAzureWrites()
          .expectInvariantsAsSeeded(),
      ACTION_ONLY,
    );
  });
});
