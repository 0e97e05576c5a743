import { readInputs, type ReadInputsContext } from "../../src/core/inputs/validate.ts";
import { INPUTS, taskInputName } from "../../src/core/inputs/schema.ts";
import type { InputError, Inputs } from "../../src/core/types.ts";

const SUBSCRIPTION = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const CLIENT = "11111111-2222-3333-4444-555555555555";
const TENANT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const SECRET = "s3cr3t-Value~with.chars";
const DIGEST = `sha256:${"ab12".repeat(16)}`;

const BASE: Record<string, string> = {
  "subscription-id": SUBSCRIPTION,
  "resource-group": "rg-prod",
  "container-app": "my-api",
  image: "myregistry.azurecr.io/api:1.4.2",
};

type Given = Record<string, string | undefined>;

function read(given: Given = {}, context?: ReadInputsContext) {
  const values: Given = { ...BASE, ...given };
  return readInputs((name) => values[name], context);
}

function inputsOf(given: Given = {}, context?: ReadInputsContext): Inputs {
  const result = read(given, context);
  if (!result.ok) throw new Error(`expected valid inputs, got ${JSON.stringify(result.errors)}`);
  return result.inputs;
}

function errorsOf(given: Given, context?: ReadInputsContext): InputError[] {
  const result = read(given, context);
  if (result.ok) throw new Error(`expected errors for ${JSON.stringify(given)}`);
  return result.errors;
}

/** The single error about `input`, checked to start with the input's name. */
function errorFor(input: string, given: Given): string {
  const errors = errorsOf(given).filter((error) => error.input === input);
  expect(errors).toHaveLength(1);
  expect(errors[0].message.startsWith(`${input}: `)).toBe(true);
  return errors[0].message;
}

describe("readInputs defaults", () => {
  it("fills every optional input from the schema", () => {
    expect(inputsOf()).toEqual({
      action: "deploy",
      subscriptionId: SUBSCRIPTION,
      resourceGroup: "rg-prod",
      containerApp: "my-api",
      image: "myregistry.azurecr.io/api:1.4.2",
      candidateLabel: "green",
      productionLabel: "blue",
      previousLabel: "previous",
      trafficSteps: [100],
      stepWaitMs: 60_000,
      smokeChecks: [
        {
          name: "GET /",
          path: "/",
          method: "GET",
          headers: {},
          expectStatus: [{ min: 200, max: 399 }],
        },
      ],
      smokeTimeoutMs: 120_000,
      checkIntervalMs: 10_000,
      readinessTimeoutMs: 600_000,
      diagnosticsLines: 100,
      diagnosticsTimeoutMs: 30_000,
      deactivatePrevious: true,
      scaleDownDelayMs: 0,
      keepFailedRevision: false,
      allowApplicationChanges: false,
      auth: { cloud: "AzureCloud" },
      dryRun: false,
      autoPromote: true,
      skipChecks: false,
    });
  });

  it("treats blank text as not given", () => {
    const inputs = inputsOf({ "traffic-steps": "", "step-wait": "   ", "revision-suffix": "" });
    expect(inputs.trafficSteps).toEqual([100]);
    expect(inputs.stepWaitMs).toBe(60_000);
    expect(inputs.revisionSuffix).toBeUndefined();
  });

  it("asks for every input of the schema and nothing else", () => {
    const asked = new Set<string>();
    readInputs((name) => {
      asked.add(name);
      return BASE[name];
    });
    expect([...asked].sort()).toEqual(INPUTS.map((input) => input.name).sort());
  });

  it("collects every error instead of stopping at the first", () => {
    const errors = errorsOf({
      "resource-group": undefined,
      "container-app": "My_App",
      image: "registry.io/API:1",
      "traffic-steps": "10,5,100",
      "step-wait": "soon",
      "dry-run": "yes",
      "smoke-path": "health",
    });
    expect(errors.map((error) => error.input)).toEqual([
      "resource-group",
      "container-app",
      "image",
      "traffic-steps",
      "step-wait",
      "smoke-path",
      "dry-run",
    ]);
  });
});

describe("action", () => {
  it.each(["deploy", "promote", "reject", "rollback", "status", "Promote", " STATUS "])(
    "accepts %j",
    (action) => {
      expect(inputsOf({ action }).action).toBe(action.trim().toLowerCase());
    },
  );

  it.each(["deploi", "delete", "deploy,promote"])("rejects %j", (action) => {
    expect(errorFor("action", { action })).toBe(
      `action: "${action}" is not one of deploy, promote, reject, rollback, status, insights`,
    );
  });

  it("requires image only for deploy", () => {
    expect(errorFor("image", { image: undefined })).toMatch(
      /^image: is required for action "deploy"; give the image/,
    );
    for (const action of ["promote", "reject", "rollback", "status"]) {
      expect(inputsOf({ action, image: undefined }).image).toBeUndefined();
    }
  });

  it("requires the resource group and the app for every action", () => {
    for (const action of ["deploy", "status"]) {
      const errors = errorsOf({ action, "resource-group": undefined, "container-app": "" });
      expect(errors.map((error) => error.message)).toEqual([
        "resource-group: is required; give the resource group of the container app",
        "container-app: is required; give the name of the container app",
      ]);
    }
  });
});

describe("resource-group", () => {
  it.each(["rg", "rg-prod", "My_Group.(eu)", "ressourcengruppe-äöü", "r".repeat(90)])(
    "accepts %j",
    (name) => {
      expect(inputsOf({ "resource-group": name }).resourceGroup).toBe(name);
    },
  );

  it.each([
    ["rg.", "must not end with '.'"],
    ["r".repeat(91), "at most 90 characters (it has 91)"],
    ["rg/prod", "may contain only letters, digits"],
    ["rg prod", "may contain only letters, digits"],
  ])("rejects %j", (name, problem) => {
    expect(errorFor("resource-group", { "resource-group": name })).toContain(problem);
  });
});

describe("container-app", () => {
  it.each(["my-api", "a1", "a".repeat(32)])("accepts %j", (name) => {
    expect(inputsOf({ "container-app": name }).containerApp).toBe(name);
  });

  it.each([
    ["My-Api", "must be lower-case"],
    ["a", "must be 2-32 characters long (it has 1)"],
    ["a".repeat(33), "must be 2-32 characters long (it has 33)"],
    ["1api", "must start with a letter"],
    ["api-", "must end with a letter or digit"],
    ["my--api", "must not contain '--'"],
    ["my_api", "may contain only lower-case letters, digits and '-'"],
  ])("rejects %j", (name, problem) => {
    const message = errorFor("container-app", { "container-app": name });
    expect(message).toContain(`"${name}" ${problem}`);
    expect(message).toContain("2-32 lower-case letters");
  });
});

describe("subscription-id", () => {
  it("accepts a GUID in any case", () => {
    expect(inputsOf({ "subscription-id": SUBSCRIPTION.toUpperCase() }).subscriptionId).toBe(
      SUBSCRIPTION.toUpperCase(),
    );
  });

  it.each(["my-subscription", "0b1f6471-1bf0-4dda-aec3", `${SUBSCRIPTION}0`])(
    "rejects %j",
    (id) => {
      expect(errorFor("subscription-id", { "subscription-id": id })).toContain(
        `"${id}" is not a subscription ID; expected a GUID`,
      );
    },
  );

  it("comes from creds when not given", () => {
    const creds = JSON.stringify({
      clientId: CLIENT,
      clientSecret: SECRET,
      tenantId: TENANT,
      subscriptionId: SUBSCRIPTION,
    });
    expect(inputsOf({ "subscription-id": undefined, creds }).subscriptionId).toBe(SUBSCRIPTION);
  });

  it("comes from the service connection when not given", () => {
    const context = { subscriptionId: SUBSCRIPTION };
    expect(inputsOf({ "subscription-id": undefined }, context).subscriptionId).toBe(SUBSCRIPTION);
  });

  it("is required when nothing supplies it", () => {
    expect(errorFor("subscription-id", { "subscription-id": undefined })).toBe(
      "subscription-id: is required; give the subscription ID (a GUID), or a creds JSON that has subscriptionId",
    );
  });
});

describe("image", () => {
  it.each([
    "nginx",
    "nginx:1.25-alpine",
    "mcr.microsoft.com/k8se/quickstart:latest",
    "localhost:5000/team/api",
    `myregistry.azurecr.io/api@${DIGEST}`,
    `myregistry.azurecr.io/api:1.4.2@${DIGEST}`,
    "ghcr.io/owner/repo_name/sub.part:v1",
  ])("accepts %j", (image) => {
    expect(inputsOf({ image }).image).toBe(image);
  });

  it.each([
    ["registry.io/API:1", 'has repository "API", which must be lower-case'],
    ["registry.io/api:bad tag", "must not contain spaces"],
    ["registry.io/api@sha256:abc", 'has digest "sha256:abc"'],
    ["registry.io/api:-x", 'has tag "-x"'],
    ["registry.io/my..api", 'has repository part "my..api"'],
    ["registry.io/api@a@b", "has more than one '@'"],
    ["bad_host.io:5000/api", 'has registry "bad_host.io:5000"'],
  ])("rejects %j", (image, problem) => {
    const message = errorFor("image", { image });
    expect(message).toContain(`"${image}" ${problem}`);
    expect(message).toContain("expected registry/repository[:tag][@sha256:<64 hex digits>]");
  });
});

describe("container-name", () => {
  it.each(["api", "1st", "a".repeat(63)])("accepts %j", (name) => {
    expect(inputsOf({ "container-name": name }).containerName).toBe(name);
  });

  it.each([
    ["Api", "must be lower-case"],
    ["-api", "must start with a letter or digit"],
    ["a".repeat(64), "must be 1-63 characters long"],
    ["api.v1", "may contain only lower-case letters"],
  ])("rejects %j", (name, problem) => {
    expect(errorFor("container-name", { "container-name": name })).toContain(problem);
  });
});

describe("revision-suffix", () => {
  it.each(["v1-4-2", "0b699ef", "r"])("accepts %j", (suffix) => {
    expect(inputsOf({ "revision-suffix": suffix }).revisionSuffix).toBe(suffix);
  });

  it("accepts app name and suffix of 54 characters together", () => {
    const app = "a".repeat(32);
    const suffix = "s".repeat(22);
    expect(inputsOf({ "container-app": app, "revision-suffix": suffix }).revisionSuffix).toBe(
      suffix,
    );
  });

  it("rejects app name and suffix longer than 54 characters together", () => {
    const app = "a".repeat(32);
    const message = errorFor("revision-suffix", {
      "container-app": app,
      "revision-suffix": "s".repeat(23),
    });
    expect(message).toContain("together may have at most 54 characters (they have 55)");
    expect(message).toContain("the suffix may have at most 22");
  });

  it.each([
    ["V1", "must be lower-case"],
    ["v--1", "must not contain '--'"],
    ["v1-", "must end with a letter or digit"],
    ["v1.2", "may contain only lower-case letters"],
  ])("rejects %j", (suffix, problem) => {
    expect(errorFor("revision-suffix", { "revision-suffix": suffix })).toContain(
      `"${suffix}" ${problem}`,
    );
  });
});

describe("labels", () => {
  it("accepts custom labels", () => {
    const inputs = inputsOf({
      "candidate-label": "canary",
      "production-label": "stable",
      "previous-label": "last-good",
    });
    expect([inputs.candidateLabel, inputs.productionLabel, inputs.previousLabel]).toEqual([
      "canary",
      "stable",
      "last-good",
    ]);
  });

  it.each(["candidate-label", "production-label", "previous-label"])(
    "%s rejects malformed labels",
    (input) => {
      for (const [label, problem] of [
        ["Green", "must be lower-case"],
        ["1green", "must start with a letter"],
        ["gr--een", "must not contain '--'"],
        ["g".repeat(51), "must be 1-50 characters long"],
        ["green_1", "may contain only lower-case letters"],
      ]) {
        expect(errorFor(input, { [input]: label })).toContain(`"${label}" ${problem}`);
      }
    },
  );

  it("rejects a label whose URL host name would not fit a DNS label", () => {
    const message = errorFor("candidate-label", {
      "container-app": "a".repeat(32),
      "candidate-label": "c".repeat(29),
    });
    expect(message).toContain("the label may have at most 28");
  });

  it("requires the three labels to differ", () => {
    expect(errorFor("production-label", { "production-label": "green" })).toBe(
      'production-label: "green" is also `candidate-label`; `candidate-label`, `production-label` and `previous-label` must differ',
    );
    expect(errorFor("previous-label", { "previous-label": "blue" })).toContain(
      '"blue" is also `production-label`',
    );
  });
});

describe("traffic-steps", () => {
  it.each([
    ["10,50,100", [10, 50, 100]],
    [" 5 , 100 ", [5, 100]],
    ["25%, 50%, 100%", [25, 50, 100]],
    ["1,2,3,100", [1, 2, 3, 100]],
    ["100", [100]],
  ])("accepts %j", (text, steps) => {
    expect(inputsOf({ "traffic-steps": text }).trafficSteps).toEqual(steps);
  });

  it("says how the steps must rise", () => {
    expect(errorFor("traffic-steps", { "traffic-steps": "10,5,100" })).toBe(
      'traffic-steps: "10,5,100" must rise step by step and end at 100 (e.g. "10,50,100")',
    );
  });

  it.each([
    ["10,50", "must rise step by step and end at 100"],
    ["50,50,100", "must rise step by step and end at 100"],
    ["100,100", "must rise step by step and end at 100"],
    ["0,100", '"0" is not a whole percentage from 1 to 100'],
    ["10,,100", "an empty step is not a whole percentage"],
    ["10.5,100", '"10.5" is not a whole percentage'],
    ["ten,100", '"ten" is not a whole percentage'],
    ["10,50,101", '"101" is not a whole percentage'],
    ["-10,100", '"-10" is not a whole percentage'],
  ])("rejects %j", (text, problem) => {
    expect(errorFor("traffic-steps", { "traffic-steps": text })).toContain(problem);
  });
});

describe("durations", () => {
  const fields = {
    "step-wait": "stepWaitMs",
    "smoke-timeout": "smokeTimeoutMs",
    "check-interval": "checkIntervalMs",
    "readiness-timeout": "readinessTimeoutMs",
    "scale-down-delay": "scaleDownDelayMs",
  } as const;

  it.each(Object.entries(fields))(
    "%s accepts units, bare seconds and combinations",
    (input, field) => {
      for (const [text, ms] of [
        ["30s", 30_000],
        ["5m", 300_000],
        ["1h", 3_600_000],
        ["250ms", 250],
        ["45", 45_000],
        ["1.5s", 1_500],
        ["1m30s", 90_000],
        ["1h 15m", 4_500_000],
      ] as const) {
        expect(inputsOf({ [input]: text })[field]).toBe(ms);
      }
    },
  );

  it.each(Object.keys(fields))("%s rejects negatives, nonsense and more than 24h", (input) => {
    for (const text of ["-5s", "5 minutes", "abc", "5d", "1.2.3s", "25h"]) {
      const message = errorFor(input, { [input]: text });
      expect(message).toContain(`"${text}"`);
      expect(message).toContain("30s, 5m, 1h or 250ms");
    }
  });

  it("accepts zero where waiting is optional and rejects it where it is not", () => {
    expect(inputsOf({ "step-wait": "0s", "scale-down-delay": "0" })).toMatchObject({
      stepWaitMs: 0,
      scaleDownDelayMs: 0,
    });
    for (const input of ["smoke-timeout", "check-interval", "readiness-timeout"]) {
      expect(errorFor(input, { [input]: "0s" })).toContain('"0s" must be longer than zero');
    }
  });
});

describe("booleans", () => {
  const fields = {
    "deactivate-previous": "deactivatePrevious",
    "keep-failed-revision": "keepFailedRevision",
    "dry-run": "dryRun",
  } as const;

  it.each(Object.entries(fields))("%s accepts true and false in any case", (input, field) => {
    expect(inputsOf({ [input]: "TRUE" })[field]).toBe(true);
    expect(inputsOf({ [input]: "False" })[field]).toBe(false);
  });

  it.each(Object.keys(fields))("%s rejects anything else", (input) => {
    for (const text of ["yes", "1", "on", "truthy"]) {
      expect(errorFor(input, { [input]: text })).toBe(
        `${input}: "${text}" is not a boolean; use true or false`,
      );
    }
  });
});

describe("smoke checks", () => {
  it("builds one GET check from smoke-path", () => {
    expect(inputsOf({ "smoke-path": "/health?deep=1" }).smokeChecks).toEqual([
      {
        name: "GET /health?deep=1",
        path: "/health?deep=1",
        method: "GET",
        headers: {},
        expectStatus: [{ min: 200, max: 399 }],
      },
    ]);
  });

  it.each([
    ["health", "must start with '/'"],
    ["/my health", "must not contain spaces"],
    ["/#top", "must not contain a fragment"],
  ])("rejects smoke-path %j", (path, problem) => {
    expect(errorFor("smoke-path", { "smoke-path": path })).toContain(problem);
  });

  it("uses smoke-checks and ignores smoke-path when both are given", () => {
    const inputs = inputsOf({
      "smoke-checks": "  - path: /ready\n  - path: /version\n    body-contains: '1.4.2'\n",
      "smoke-path": "not-even-a-path",
    });
    expect(inputs.smokeChecks.map((check) => check.name)).toEqual(["GET /ready", "GET /version"]);
  });

  it("reports smoke-checks errors under the smoke-checks input", () => {
    const errors = errorsOf({ "smoke-checks": "- path: /a\n  status: 2xx\n" });
    expect(errors).toEqual([
      {
        input: "smoke-checks",
        message:
          'smoke-checks[0].status: "2xx" is not a status code or range (e.g. 200, "200-299")',
      },
    ]);
  });
});

describe("environment and endpoints", () => {
  it.each([
    ["AzureCloud", "AzureCloud"],
    ["azureusgovernment", "AzureUSGovernment"],
    ["AZURECHINACLOUD", "AzureChinaCloud"],
  ])("accepts %j", (text, cloud) => {
    expect(inputsOf({ environment: text }).auth.cloud).toBe(cloud);
  });

  it("rejects an unknown cloud", () => {
    expect(errorFor("environment", { environment: "AzureGermanCloud" })).toBe(
      'environment: "AzureGermanCloud" is not one of AzureCloud, AzureUSGovernment, AzureChinaCloud, Custom',
    );
  });

  it("takes a custom cloud with both endpoints", () => {
    expect(
      inputsOf({
        environment: "Custom",
        "arm-endpoint": "https://management.contoso.example",
        "authority-host": "https://login.contoso.example/",
      }).auth,
    ).toEqual({
      cloud: "Custom",
      armEndpoint: "https://management.contoso.example",
      authorityHost: "https://login.contoso.example/",
    });
  });

  it("requires both endpoints for a custom cloud", () => {
    const errors = errorsOf({ environment: "Custom" });
    expect(errors.map((error) => error.message)).toEqual([
      "arm-endpoint: is required for environment Custom; give an https URL",
      "authority-host: is required for environment Custom; give an https URL",
    ]);
  });

  it.each(["arm-endpoint", "authority-host"])("%s takes https URLs only", (input) => {
    expect(errorFor(input, { [input]: "http://127.0.0.1:8443" })).toContain("must use https");
    expect(errorFor(input, { [input]: "management.example" })).toContain("is not a URL");
    expect(errorFor(input, { [input]: "https://user:pw@example.com" })).toContain(
      "without credentials, query or fragment",
    );
  });
});

describe("client-id, tenant-id and creds", () => {
  it("takes an OpenID Connect identity", () => {
    expect(inputsOf({ "client-id": CLIENT, "tenant-id": TENANT }).auth).toEqual({
      cloud: "AzureCloud",
      clientId: CLIENT,
      tenantId: TENANT,
    });
  });

  it("needs client-id and tenant-id together", () => {
    expect(errorFor("tenant-id", { "client-id": CLIENT })).toContain(
      "is required with `client-id`",
    );
    expect(errorFor("client-id", { "tenant-id": TENANT })).toContain(
      "is required with `tenant-id`",
    );
  });

  it.each(["client-id", "tenant-id"])("%s must be a GUID", (input) => {
    const given = { "client-id": CLIENT, "tenant-id": TENANT, [input]: "my-app" };
    expect(errorFor(input, given)).toContain('"my-app" is not a GUID');
  });

  it("takes creds as azure/login does", () => {
    const creds = { clientId: CLIENT, clientSecret: SECRET, tenantId: TENANT };
    expect(inputsOf({ creds: JSON.stringify(creds, null, 2) }).auth.creds).toEqual(creds);
  });

  it("ignores the extra fields of an SDK auth file", () => {
    const creds = JSON.stringify({
      clientId: CLIENT,
      clientSecret: SECRET,
      tenantId: TENANT,
      activeDirectoryEndpointUrl: "https://login.microsoftonline.com",
    });
    expect(inputsOf({ creds }).auth.creds).toEqual({
      clientId: CLIENT,
      clientSecret: SECRET,
      tenantId: TENANT,
    });
  });

  it.each([
    ["is not valid JSON", `{"clientId": "${CLIENT}", "clientSecret": "${SECRET}"`],
    ["is not a JSON object", `"${SECRET}"`],
    ["tenantId is missing", `{"clientId": "${CLIENT}", "clientSecret": "${SECRET}"}`],
    [
      "clientId is not a GUID",
      `{"clientId": "x", "clientSecret": "${SECRET}", "tenantId": "${TENANT}"}`,
    ],
    ["clientSecret is missing", `{"clientId": "${CLIENT}", "tenantId": "${TENANT}"}`],
    [
      "subscriptionId is not a GUID",
      `{"clientId": "${CLIENT}", "clientSecret": "${SECRET}", "tenantId": "${TENANT}", "subscriptionId": "${SECRET}"}`,
    ],
  ])("rejects creds (%s) without repeating the secret", (problem, creds) => {
    const errors = errorsOf({ creds });
    expect(errorFor("creds", { creds })).toContain(problem);
    expect(JSON.stringify(errors)).not.toContain(SECRET);
    expect(JSON.stringify(errors)).not.toContain("s3cr3t");
  });

  it("refuses creds together with client-id", () => {
    const creds = JSON.stringify({ clientId: CLIENT, clientSecret: SECRET, tenantId: TENANT });
    const message = errorFor("creds", { creds, "client-id": CLIENT, "tenant-id": TENANT });
    expect(message).toBe(
      "creds: cannot be combined with `client-id`; give either `creds` or `client-id` and `tenant-id`",
    );
  });
});

describe("taskInputName", () => {
  it("turns kebab-case into camelCase", () => {
    expect(taskInputName("traffic-steps")).toBe("trafficSteps");
    expect(taskInputName("subscription-id")).toBe("subscriptionId");
    expect(taskInputName("action")).toBe("action");
    expect(new Set(INPUTS.map((input) => taskInputName(input.name))).size).toBe(INPUTS.length);
  });
});

describe("action: insights", () => {
  const insights = { action: "insights", image: undefined, "subscription-id": undefined };

  it("reads one app or several, and the window, without a subscription", () => {
    const inputs = inputsOf({ ...insights, "container-app": "shop, cart\nbilling,shop" });
    expect(inputs.insights).toEqual({
      apps: ["shop", "cart", "billing"],
      windowMs: 30 * 86_400_000,
    });
    expect(inputs.containerApp).toBe("shop");
    expect(inputsOf({ ...insights, window: "4w" }).insights?.windowMs).toBe(28 * 86_400_000);
  });

  it("names the input of a bad window or a bad app, and checks every app", () => {
    expect(errorFor("window", { ...insights, window: "30" })).toBe(
      'window: "30" is not a window of days or weeks; use a whole number with d or w, from 1d to 366d (e.g. "30d" or "4w")',
    );
    expect(errorFor("window", { ...insights, window: "2y" })).toContain('"2y"');
    expect(errorFor("container-app", { ...insights, "container-app": "shop,Cart" })).toContain(
      '"Cart" must be lower-case',
    );
    expect(errorFor("container-app", { ...insights, "container-app": " , " })).toContain(
      "is required",
    );
  });

  it("keeps one app for the other actions, and ignores the window there", () => {
    expect(errorFor("container-app", { "container-app": "shop,cart" })).toContain('"shop,cart"');
    expect(inputsOf({ window: "nonsense" }).insights).toBeUndefined();
  });
});

describe("deployment-environment", () => {
  it("is the GitHub environment the deployments are recorded in", () => {
    expect(inputsOf({ "deployment-environment": "production" }).deploymentEnvironment).toBe(
      "production",
    );
    expect(inputsOf().deploymentEnvironment).toBeUndefined();
    expect(errorFor("deployment-environment", { "deployment-environment": "x".repeat(256) })).toBe(
      'deployment-environment: is not a GitHub environment name: give at most 255 characters on one line, such as the job\'s environment (e.g. "production")',
    );
  });
});

describe("diagnostics inputs", () => {
  it("take whole lines from 0 to 300 and a timeout from 0s to 5m", () => {
    expect(inputsOf({ "diagnostics-lines": "0", "diagnostics-timeout": "0s" })).toMatchObject({
      diagnosticsLines: 0,
      diagnosticsTimeoutMs: 0,
    });
    expect(inputsOf({ "diagnostics-lines": "300", "diagnostics-timeout": "5m" })).toMatchObject({
      diagnosticsLines: 300,
      diagnosticsTimeoutMs: 300_000,
    });
  });

  it.each(["301", "-1", "12.5", "lots"])("refuse %s lines, naming the limit", (lines) => {
    expect(errorFor("diagnostics-lines", { "diagnostics-lines": lines })).toBe(
      `diagnostics-lines: "${lines}" is not a whole number of lines from 0 to 300 (the most the log stream serves), e.g. "100"`,
    );
  });

  it("refuse a timeout over 5m, and one that is no duration", () => {
    expect(errorFor("diagnostics-timeout", { "diagnostics-timeout": "6m" })).toMatch(
      /^diagnostics-timeout: "6m" is longer than the maximum of 5m/,
    );
    expect(errorFor("diagnostics-timeout", { "diagnostics-timeout": "soon" })).toMatch(
      /^diagnostics-timeout: "soon" is not a duration/,
    );
  });
});
