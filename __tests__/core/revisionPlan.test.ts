/**
 * The plan of a new revision with plain values: the template it gets, how each change is
 * classified, what is refused before any write, and what a restore can and cannot put back.
 */
import { RunJournal } from "../../src/core/journal.ts";
import type { RevisionInputs } from "../../src/core/revision/model.ts";
import {
  PlanRefused,
  describePlan,
  planCandidate,
  secretsNeedValues,
  type PlanRequest,
} from "../../src/core/revision/plan.ts";
import { resourceProblem, workloadProfileOf } from "../../src/core/revision/resources.ts";
import { restoreRecord } from "../../src/core/rollout/recover.ts";

const CONSUMPTION = workloadProfileOf(undefined, []);

function revision(given: Partial<RevisionInputs> = {}): RevisionInputs {
  return { env: [], secrets: [], ...given };
}

function request(given: Partial<PlanRequest> = {}): PlanRequest {
  return {
    app: {
      name: "shop",
      activeRevisionsMode: "Multiple",
      template: {
        revisionSuffix: "v1",
        containers: [
          {
            name: "shop",
            image: "registry.test/shop:1",
            env: [
              { name: "MODE", value: "blue" },
              { name: "DB_PASSWORD", secretRef: "db-password" },
            ],
            resources: { cpu: 0.5, memory: "1Gi", ephemeralStorage: "2Gi" },
          },
        ],
        scale: { minReplicas: 0, maxReplicas: 10, rules: [{ name: "http" }] },
      },
      configuration: {
        activeRevisionsMode: "Multiple",
        secrets: [{ name: "db-password" }],
        ingress: { external: true, targetPort: 8080, fqdn: "shop.env.test", traffic: [] },
      },
    },
    active: [
      {
        name: "shop--v1",
        template: {
          containers: [{ name: "shop", env: [{ name: "DB_PASSWORD", secretRef: "db-password" }] }],
        },
      },
    ],
    image: "registry.test/shop:2",
    allowApplicationChanges: false,
    secretValues: [{ name: "db-password", value: "old-password" }],
    profile: CONSUMPTION,
    ...given,
  };
}

function refusal(given: Partial<PlanRequest>): PlanRefused {
  try {
    planCandidate(request(given));
  } catch (error) {
    if (error instanceof PlanRefused) return error;
    throw error;
  }
  throw new Error("expected the plan to be refused");
}

describe("the new revision's template", () => {
  test("is the current one with the image, when nothing else is asked; nothing else is written", () => {
    const spec = planCandidate(request({ revision: undefined }));
    expect(spec.template.containers[0]).toMatchObject({ image: "registry.test/shop:2" });
    expect(spec.template.revisionSuffix).toBeUndefined();
    expect(spec.fingerprint).toBeUndefined();
    expect(spec.write).toEqual({ multipleRevisions: false });
    expect(spec.changes).toEqual([
      { scope: "revision", what: "image of shop: registry.test/shop:1 → registry.test/shop:2" },
    ]);
  });

  test("merges the file's template as a PATCH does, then the inputs win", () => {
    const spec = planCandidate(
      request({
        revision: revision({
          env: [
            { kind: "set", name: "MODE", value: "green" },
            { kind: "remove", name: "GREETING" },
          ],
          maxReplicas: 4,
          file: {
            path: "app.yaml",
            ignored: [],
            template: {
              containers: [
                {
                  name: "shop",
                  image: "ignored:1",
                  env: [
                    { name: "GREETING", value: "hi" },
                    { name: "MODE", value: "file" },
                  ],
                },
                { name: "sidecar", image: "registry.test/sidecar:1" },
              ],
              scale: { minReplicas: 2 },
            },
          },
        }),
      }),
    );
    expect(spec.template.containers).toEqual([
      { name: "shop", image: "registry.test/shop:2", env: [{ name: "MODE", value: "green" }] },
      { name: "sidecar", image: "registry.test/sidecar:1" },
    ]);
    // scale merges key by key; containers replace as a whole.
    expect(spec.template.scale).toEqual({
      minReplicas: 2,
      maxReplicas: 4,
      rules: [{ name: "http" }],
    });
    expect(spec.minReplicas).toBe(2);
    expect(spec.changes.map((change) => change.what)).toEqual(
      expect.arrayContaining([
        "container sidecar added (image registry.test/sidecar:1)",
        "env of shop: ~MODE, -DB_PASSWORD",
        "minReplicas: 0 → 2",
        "maxReplicas: 10 → 4",
      ]),
    );
  });

  test("the same inputs on the same app give the same fingerprint; other variables another", () => {
    const one = planCandidate(
      request({ revision: revision({ env: [{ kind: "set", name: "A", value: "1" }] }) }),
    );
    const same = planCandidate(
      request({ revision: revision({ env: [{ kind: "set", name: "A", value: "1" }] }) }),
    );
    const other = planCandidate(
      request({ revision: revision({ env: [{ kind: "set", name: "A", value: "2" }] }) }),
    );
    expect(one.fingerprint).toMatch(/^[0-9a-f]{6}$/);
    expect(same.fingerprint).toBe(one.fingerprint);
    expect(other.fingerprint).not.toBe(one.fingerprint);
  });

  test("a container-name the template lacks is refused", () => {
    const error = refusal({ containerName: "web" });
    expect(error.code).toBe("ContainerNotFound");
    expect(error.message).toContain(
      '`container-name`: the app has no container "web" (it has shop)',
    );
  });

  test("a container of the file without an image is refused", () => {
    const error = refusal({
      revision: revision({
        file: {
          path: "a.yaml",
          ignored: [],
          template: { containers: [{ name: "shop" }, { name: "sidecar" }] },
        },
      }),
    });
    expect(error.message).toContain("container sidecar has no image");
  });
});

describe("CPU and memory", () => {
  const sidecar = (cpu: number, memory: string) =>
    revision({
      cpu: 0.5,
      memory: "1Gi",
      file: {
        path: "a.yaml",
        ignored: [],
        template: {
          containers: [
            { name: "shop", image: "x" },
            { name: "sidecar", image: "y", resources: { cpu, memory } },
          ],
        },
      },
    });

  test("on Consumption, the total of all containers must be a documented pair, up to 4 vCPU / 8Gi", () => {
    expect(() => planCandidate(request({ revision: sidecar(0.25, "0.5Gi") }))).not.toThrow();
    expect(() => planCandidate(request({ revision: sidecar(3.5, "7Gi") }))).not.toThrow();
    const odd = refusal({ revision: sidecar(0.25, "1Gi") });
    expect(odd.code).toBe("InvalidResources");
    expect(odd.message).toContain(
      "ask for 0.75 vCPU and 2Gi in all (shop 0.5 vCPU / 1Gi, sidecar 0.25 vCPU / 1Gi)",
    );
    expect(refusal({ revision: sidecar(4, "8Gi") }).message).toContain("4.5 vCPU and 9Gi");
  });

  test("a container without resources counts as the service's default 0.5 vCPU / 1Gi", () => {
    const error = refusal({
      revision: revision({
        file: {
          path: "a.yaml",
          ignored: [],
          template: {
            containers: [
              { name: "shop", image: "x", resources: { cpu: 1, memory: "1Gi" } },
              { name: "b", image: "y" },
            ],
          },
        },
      }),
    });
    expect(error.message).toContain(
      "1.5 vCPU and 2Gi in all (shop 1 vCPU / 1Gi, b 0.5 vCPU / 1Gi)",
    );
    expect(error.message).toMatch(/^`revision-template`: /);
  });

  test("on a dedicated profile, up to a node of its size; an unknown type is left to the service", () => {
    const d4 = workloadProfileOf("big", [{ name: "big", workloadProfileType: "D4" }]);
    expect(d4).toEqual({ kind: "dedicated", name: "big", type: "D4", cores: 4, memoryGiB: 16 });
    const template = (cpu: number, memory: string) => ({
      containers: [{ name: "a", image: "x", resources: { cpu, memory } }],
    });
    expect(resourceProblem(template(3, "12Gi"), d4)).toBeUndefined();
    expect(resourceProblem(template(4, "20Gi"), d4)).toContain("(D4: 4 vCPU, 16Gi)");
    const unknown = workloadProfileOf("gpu", [{ name: "gpu", workloadProfileType: "NC8-T4" }]);
    expect(unknown.kind).toBe("unknown");
    expect(resourceProblem(template(64, "512Gi"), unknown)).toBeUndefined();
  });
});

describe("secrets", () => {
  test("only a write of the secrets array needs the current values", () => {
    const app = request().app;
    expect(secretsNeedValues(app, undefined)).toBe(false);
    expect(secretsNeedValues(app, revision({ env: [] }))).toBe(false);
    expect(secretsNeedValues(app, revision({ secrets: [{ name: "x", value: "1" }] }))).toBe(true);
  });

  test("a new name is added in the same write, with the existing values, and stays after a restore", () => {
    const spec = planCandidate(
      request({
        revision: revision({
          env: [{ kind: "secretref", name: "API_KEY", secret: "api-key" }],
          secrets: [{ name: "api-key", value: "new-key" }],
        }),
      }),
    );
    expect(spec.write.secrets).toEqual([
      { name: "db-password", value: "old-password" },
      { name: "api-key", value: "new-key" },
    ]);
    expect(spec.addedSecrets).toEqual(["api-key"]);
    expect(spec.warnings).toEqual([]);
    expect(spec.restore.secrets).toBeUndefined();
    expect(describePlan(spec).join("\n")).not.toContain("new-key");
  });

  test("the same value again changes nothing and writes no secrets", () => {
    const spec = planCandidate(
      request({
        revision: revision({ secrets: [{ name: "db-password", value: "old-password" }] }),
      }),
    );
    expect(spec.write.secrets).toBeUndefined();
  });

  test("a new value for a secret blue uses is refused, naming who uses it", () => {
    const error = refusal({
      revision: revision({ secrets: [{ name: "db-password", value: "new-password" }] }),
    });
    expect(error.code).toBe("ApplicationChangeRefused");
    expect(error.message).toContain("secret db-password gets a new value (used by shop--v1)");
    expect(error.message).not.toContain("new-password");
  });

  test("allowed, it is a warning, and the restore holds the old value in memory only", () => {
    const spec = planCandidate(
      request({
        allowApplicationChanges: true,
        revision: revision({ secrets: [{ name: "db-password", value: "new-password" }] }),
      }),
    );
    expect(spec.warnings).toEqual([
      expect.stringContaining(
        "Application scope: secret db-password gets a new value — used by shop--v1",
      ),
    ]);
    expect(spec.write.secrets).toEqual([{ name: "db-password", value: "new-password" }]);
    expect(spec.restore.secrets).toEqual([{ name: "db-password", value: "old-password" }]);
    expect(spec.restore.changedSecrets).toEqual(["db-password"]);
  });

  test("a new value for a secret no running revision uses is not refused", () => {
    const spec = planCandidate(
      request({
        active: [{ name: "shop--v1", template: { containers: [{ name: "shop" }] } }],
        revision: revision({ secrets: [{ name: "db-password", value: "new-password" }] }),
      }),
    );
    expect(spec.changes).toContainEqual({
      scope: "application",
      what: "secret db-password gets a new value",
      note: "no running revision uses it",
    });
  });

  test("a reference to a secret the app lacks names the input it came from", () => {
    const error = refusal({
      revision: revision({ env: [{ kind: "secretref", name: "API_KEY", secret: "api-key" }] }),
    });
    expect(error.code).toBe("SecretNotFound");
    expect(error.message).toBe(
      "`env-vars`: API_KEY refers to secret api-key, which shop does not have (it has db-password).",
    );
  });

  test("Key Vault references are written as references", () => {
    const spec = planCandidate(
      request({
        revision: revision({
          secrets: [
            {
              name: "vault",
              keyVaultUrl: "https://kv.vault.azure.net/secrets/v",
              identity: "system",
            },
          ],
        }),
      }),
    );
    expect(spec.write.secrets).toContainEqual({
      name: "vault",
      keyVaultUrl: "https://kv.vault.azure.net/secrets/v",
      identity: "system",
    });
  });

  test("the secrets array is never written without the values it replaces", () => {
    expect(() =>
      planCandidate(
        request({
          secretValues: undefined,
          revision: revision({ secrets: [{ name: "x", value: "1" }] }),
        }),
      ),
    ).toThrow("were not read");
  });
});

describe("the rest of the application scope", () => {
  const configurationFile = (configuration: Record<string, unknown>) =>
    revision({ file: { path: "app.yaml", ignored: [], configuration } });

  test("a file's configuration that changes the app is refused without the opt-in", () => {
    const error = refusal({ revision: configurationFile({ ingress: { targetPort: 80 } }) });
    expect(error.message).toContain("configuration.ingress of `revision-template` changes");
  });

  test("a file that repeats the app's configuration changes nothing and is not refused", () => {
    const spec = planCandidate(
      request({ revision: configurationFile({ ingress: { external: true, targetPort: 8080 } }) }),
    );
    expect(spec.write.configuration).toBeUndefined();
  });

  test("allowed, it is written, and a restore puts back what it was", () => {
    const spec = planCandidate(
      request({
        allowApplicationChanges: true,
        revision: configurationFile({ ingress: { targetPort: 80 }, maxInactiveRevisions: 5 }),
      }),
    );
    expect(spec.write.configuration).toEqual({
      ingress: { external: true, targetPort: 80 },
      maxInactiveRevisions: 5,
    });
    expect(spec.restore.configuration).toEqual({ ingress: { external: true, targetPort: 8080 } });
    expect(spec.restore.notRestorable).toEqual([
      "configuration.maxInactiveRevisions of `revision-template` (the app had none before)",
    ]);
  });

  test("Single mode becomes Multiple in the same write; no restore switches it back", () => {
    const base = request();
    const spec = planCandidate({ ...base, app: { ...base.app, activeRevisionsMode: "Single" } });
    expect(spec.write.multipleRevisions).toBe(true);
    expect(spec.changes).toContainEqual(
      expect.objectContaining({ scope: "application", what: "revision mode Single → Multiple" }),
    );
    expect(spec.restore.notRestorable).toEqual([expect.stringContaining("stays Multiple")]);
  });

  test("managed-identity pull is a warning, and a restore puts the registries back", () => {
    const spec = planCandidate(
      request({ registries: [{ server: "myacr.azurecr.io", identity: "system" }] }),
    );
    expect(spec.write.registries).toEqual([{ server: "myacr.azurecr.io", identity: "system" }]);
    expect(spec.restore.configuration).toEqual({ registries: [] });
    expect(spec.warnings).toEqual([
      expect.stringContaining("managed-identity pull (myacr.azurecr.io)"),
    ]);
  });
});

describe("a restore of the application scope", () => {
  function journal(changedSecrets: string[]) {
    const saved = new Map<string, string>();
    return RunJournal.start(
      { save: (key, value) => saved.set(key, value), load: (key) => saved.get(key) },
      {
        subscriptionId: "s",
        resourceGroup: "rg",
        app: "shop",
        runId: "run",
        candidate: "shop--v2",
        createdCandidate: true,
        keepFailedRevision: false,
        before: [{ revisionName: "shop--v1", weight: 100 }],
        tags: {},
        appScope: {
          configuration: { registries: [] },
          addedSecrets: ["api-key"],
          changedSecrets,
          notRestorable: [],
        },
      },
    );
  }

  test("by the run itself writes the old secret values back with the configuration", () => {
    const record = restoreRecord(journal(["db-password"]), {
      secrets: [{ name: "db-password", value: "old-password" }],
      changedSecrets: ["db-password"],
      notRestorable: [],
    });
    expect(record.secrets).toEqual([{ name: "db-password", value: "old-password" }]);
    expect(record.configuration).toEqual({ registries: [] });
    expect(record.notRestorable).toEqual([]);
  });

  test("from the saved journal alone (the run was killed) says the changed value stays, and keeps no value", () => {
    const saved = journal(["db-password"]);
    const record = restoreRecord(saved);
    expect(record.secrets).toBeUndefined();
    expect(record.configuration).toEqual({ registries: [] });
    expect(record.notRestorable).toEqual([
      expect.stringContaining("secret db-password keeps the new value"),
    ]);
    expect(JSON.stringify(saved.record)).not.toContain("old-password");
  });
});
