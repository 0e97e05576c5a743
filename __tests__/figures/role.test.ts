/**
 * The least-privilege role of docs/role.json: generated from the operations the gateways perform,
 * and enough for what real runs do — every ARM request the emulator journals during a deploy, a
 * failed deploy's restore, a rollback to a deactivated revision and a status run maps to an
 * operation the role grants.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Emulator } from "../../emulator/types.ts";
import { operationOf, operationsMissing, roleJson } from "../../scripts/figures/role.ts";
import {
  FAST_INPUTS,
  RESOURCE_GROUP,
  ROOT,
  credsInputs,
  image,
  revisionsOf,
  runBundle,
  seedRolloutApp,
  startWorld,
} from "../../scripts/figures/world.ts";

describe("The custom role", () => {
  test("docs/role.json is the one generated from the operations list (npm run figures -- role)", () => {
    expect(readFileSync(join(ROOT, "docs/role.json"), "utf8")).toBe(roleJson());
  });

  test("an operation the role lacks, or a request no operation is known for, is reported", () => {
    const app = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/containerApps/shop";
    expect(operationOf("POST", `${app}/revisions/shop--v1/deactivate`)).toBe(
      "Microsoft.App/containerApps/revisions/deactivate/action",
    );
    expect(operationOf("GET", "/metadata/endpoints")).toBeNull();
    expect(
      operationsMissing([
        { method: "GET", path: app },
        { method: "POST", path: `${app}/listSecrets` },
        { method: "DELETE", path: app },
        { method: "GET", path: "/subscriptions/s/providers/Microsoft.Insights/metrics" },
      ]),
    ).toEqual([
      `Microsoft.App/containerApps/listSecrets/action (POST ${app}/listSecrets)`,
      `Microsoft.App/containerApps/delete (DELETE ${app})`,
      "GET /subscriptions/s/providers/Microsoft.Insights/metrics (no Azure operation known for it)",
    ]);
  });
});

describe("Given the Action run with the role's operations only", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startWorld();
  });
  afterAll(() => emulator?.stop());

  test("a deploy, a failed deploy, a rollback to a deactivated revision and a status run need nothing else", async () => {
    const app = "shop";
    const r = revisionsOf(app);
    await seedRolloutApp(emulator, app);
    emulator.clearJournal();
    const inputs = { "container-app": app, ...FAST_INPUTS, ...credsInputs(emulator) };
    const deployed = await runBundle(emulator, {
      inputs: { ...inputs, image: image("healthy-v2"), "revision-suffix": "v2" },
    });
    expect(deployed.outputs.result).toBe("promoted");
    let broken = false;
    const failed = await runBundle(emulator, {
      inputs: { ...inputs, image: image("healthy-v3"), "revision-suffix": "v3" },
      onLine: (text) => {
        if (!broken && /^\[1\/3\] /.test(text)) {
          broken = true;
          void emulator.setRevisionBehaviour(RESOURCE_GROUP, app, `${app}--v3`, "http500");
        }
      },
    });
    expect(failed.outputs.result).toBe("rolled-back");
    const rolledBack = await runBundle(emulator, {
      inputs: { ...inputs, action: "rollback", "rollback-to": r.main, "traffic-steps": "100" },
    });
    expect(rolledBack.outputs.result).toBe("rolled-back");
    const status = await runBundle(emulator, { inputs: { ...inputs, action: "status" } });
    expect(status.exitCode).toBe(0);

    const journal = emulator.armJournal();
    const used = new Set(journal.map((e) => operationOf(e.method, e.path)));
    expect(used).toContain("Microsoft.App/containerApps/revisions/activate/action");
    expect(used).toContain("Microsoft.App/containerApps/revisions/deactivate/action");
    expect(operationsMissing(journal)).toEqual([]);
  });
});
