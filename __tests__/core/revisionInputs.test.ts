/**
 * The inputs that shape the new revision, read with plain values: each bad value is an error
 * naming its input, and no secret value is ever repeated in one.
 */
import { readInputs } from "../../src/core/inputs/validate.ts";
import type { InputError } from "../../src/core/types.ts";

const BASE: Record<string, string> = {
  "subscription-id": "00000000-0000-0000-0000-000000000001",
  "resource-group": "rg",
  "container-app": "shop",
  image: "registry.test/shop:2",
};

function read(given: Record<string, string>, files: Record<string, string> = {}) {
  return readInputs((name) => ({ ...BASE, ...given })[name], {
    readFile: (path) => {
      if (!(path in files)) throw new Error(`ENOENT: no such file, open '${path}'`);
      return files[path];
    },
  });
}

function revisionOf(given: Record<string, string>, files?: Record<string, string>) {
  const result = read(given, files);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join("; "));
  return result.inputs.revision;
}

function errorsOf(given: Record<string, string>, files?: Record<string, string>): InputError[] {
  const result = read(given, files);
  if (result.ok) throw new Error("expected the inputs to fail");
  return result.errors;
}

test("without any revision input there is nothing to shape: the revision is the current one with the image", () => {
  expect(revisionOf({})).toBeUndefined();
  expect(read({}).ok).toBe(true);
});

describe("env-vars", () => {
  test("reads KEY=VALUE, KEY=secretref:NAME and -KEY, skipping blank lines and comments", () => {
    expect(
      revisionOf({
        "env-vars":
          "# flags\nFEATURE_X=on\n\nURL=https://x.test/?a=b\nAPI_KEY=secretref:api-key\n-OLD",
      })?.env,
    ).toEqual([
      { kind: "set", name: "FEATURE_X", value: "on" },
      { kind: "set", name: "URL", value: "https://x.test/?a=b" },
      { kind: "secretref", name: "API_KEY", secret: "api-key" },
      { kind: "remove", name: "OLD" },
    ]);
  });

  test.each([
    ["NOVALUE", 'line 1 ("NOVALUE") is not KEY=VALUE'],
    ["1ST=x", '"1ST" is not a variable name'],
    ["A=1\nA=2", "line 2: A is given twice"],
    ["-A=1", "-KEY removes a variable and takes no value"],
    ["A=secretref:Bad_Name", 'A refers to secret "Bad_Name"'],
  ])("refuses %j", (text, message) => {
    const errors = errorsOf({ "env-vars": text });
    expect(errors.map((e) => e.input)).toEqual(["env-vars"]);
    expect(errors[0].message).toContain(message);
  });
});

describe("secrets", () => {
  test("reads values and Key Vault references", () => {
    expect(
      revisionOf({
        secrets:
          "api-key=s3cr3t=with=equals\nvault=keyvaultref:https://kv.vault.azure.net/secrets/db,identityref:system",
      })?.secrets,
    ).toEqual([
      { name: "api-key", value: "s3cr3t=with=equals" },
      { name: "vault", keyVaultUrl: "https://kv.vault.azure.net/secrets/db", identity: "system" },
    ]);
  });

  test.each([
    ["Bad_Name=hunter2", "the secret name"],
    ["justavalue-hunter2", "is not NAME=VALUE"],
    ["a=", "secret a has no value"],
    ["a=hunter2\na=hunter2", "secret a is given twice"],
    ["a=keyvaultref:https://kv.vault.azure.net/secrets/x", "needs identityref:system"],
    ["a=keyvaultref:http://kv/secrets/x,identityref:system", "is not a Key Vault secret URL"],
  ])("refuses %j without repeating the value", (text, message) => {
    const errors = errorsOf({ secrets: text });
    expect(errors.map((e) => e.input)).toEqual(["secrets"]);
    expect(errors[0].message).toContain(message);
    expect(errors[0].message).not.toContain("hunter2");
  });
});

describe("cpu, memory and replicas", () => {
  test("reads them", () => {
    expect(
      revisionOf({ cpu: "0.75", memory: "1.5Gi", "min-replicas": "3", "max-replicas": "10" }),
    ).toMatchObject({ cpu: 0.75, memory: "1.5Gi", minReplicas: 3, maxReplicas: 10 });
  });

  test.each([
    ["cpu", "0", "above zero"],
    ["cpu", "0.125", "at most two decimals"],
    ["cpu", "one", "is not a number"],
    ["memory", "512Mi", "in Gi"],
    ["memory", "1G", "in Gi"],
    ["min-replicas", "-1", "from 0 to 1000"],
    ["max-replicas", "0", "from 1 to 1000"],
    ["max-replicas", "1001", "from 1 to 1000"],
  ])("refuses %s %j", (input, value, message) => {
    const errors = errorsOf({ [input]: value });
    expect(errors.map((e) => e.input)).toEqual([input]);
    expect(errors[0].message).toContain(message);
  });

  test("a minimum above the maximum names both", () => {
    const [error] = errorsOf({ "min-replicas": "5", "max-replicas": "2" });
    expect(error.input).toBe("min-replicas");
    expect(error.message).toContain("more than `max-replicas` (2)");
  });
});

describe("command, args and probes", () => {
  test("take one item a line or a YAML list", () => {
    expect(revisionOf({ command: '["/bin/sh", "-c"]', args: "serve\n--port\n8080" })).toMatchObject(
      {
        command: ["/bin/sh", "-c"],
        args: ["serve", "--port", "8080"],
      },
    );
  });

  test("probes are a YAML list with one action each; their type is spelled as the service spells it", () => {
    expect(
      revisionOf({
        probes: "- type: readiness\n  httpGet: { path: /health, port: 8080 }\n  periodSeconds: 5",
      })?.probes,
    ).toEqual([{ type: "Readiness", httpGet: { path: "/health", port: 8080 }, periodSeconds: 5 }]);
  });

  test.each([
    ["- type: Warmup\n  tcpSocket: { port: 80 }", 'type "Warmup"'],
    ["- type: Liveness", "exactly one of httpGet and tcpSocket"],
    ["- type: Liveness\n  tcpSocket: { port: 0 }", "not a port"],
    ["- type: Liveness\n  httpGet: { path: health, port: 80 }", "does not start with /"],
    [
      "- type: Liveness\n  tcpSocket: { port: 80 }\n- type: Liveness\n  tcpSocket: { port: 81 }",
      "already a Liveness probe",
    ],
    ["type: Liveness", "is not a YAML list"],
  ])("refuses probes %j", (text, message) => {
    const errors = errorsOf({ probes: text });
    expect(errors[0].input).toBe("probes");
    expect(errors[0].message).toContain(message);
  });
});

describe("revision-template", () => {
  const file = [
    "name: shop",
    "properties:",
    "  managedEnvironmentId: /subscriptions/x",
    "  template:",
    "    containers:",
    "      - name: shop",
    "        image: x",
    "  configuration:",
    "    ingress:",
    "      targetPort: 80",
  ].join("\n");

  test("reads properties.template and properties.configuration, and lists what it ignores", () => {
    expect(revisionOf({ "revision-template": "app.yaml" }, { "app.yaml": file })?.file).toEqual({
      path: "app.yaml",
      template: { containers: [{ name: "shop", image: "x" }] },
      configuration: { ingress: { targetPort: 80 } },
      ignored: ["name", "properties.managedEnvironmentId"],
    });
  });

  test.each([
    ["missing.yaml", undefined, "missing.yaml cannot be read: ENOENT"],
    ["a.yaml", "properties: [", "is not valid YAML"],
    ["a.yaml", "template:\n  containers: []", "is not a container app as"],
    ["a.yaml", "properties:\n  name: x", "has neither `properties.template`"],
    ["a.yaml", "properties:\n  template:\n    containers: []", "is not a list of containers"],
    [
      "a.yaml",
      "properties:\n  template:\n    containers:\n      - name: Web_1\n        image: x",
      'name "Web_1"',
    ],
    [
      "a.yaml",
      "properties:\n  configuration:\n    ingress:\n      traffic: [{latestRevision: true, weight: 100}]",
      "traffic is what the rollout moves",
    ],
    ["a.yaml", "properties:\n  configuration:\n    activeRevisionsMode: Single", "needs Multiple"],
    [
      "a.yaml",
      "properties:\n  configuration:\n    colour: red",
      "configuration.colour is not a field",
    ],
  ])("refuses %s (%j)", (path, text, message) => {
    const errors = errorsOf(
      { "revision-template": path },
      text === undefined ? {} : { [path]: text },
    );
    expect(errors[0].input).toBe("revision-template");
    expect(errors[0].message).toContain(message);
  });
});

test("allow-application-changes is a boolean, false unless given", () => {
  const result = read({});
  expect(result.ok && result.inputs.allowApplicationChanges).toBe(false);
  expect(errorsOf({ "allow-application-changes": "maybe" })[0].input).toBe(
    "allow-application-changes",
  );
});
