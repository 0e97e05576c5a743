/**
 * Operator verbs end to end — held deploys, promote, reject, rollback, status, leases — on the
 * Action's bundle and on the task's, each scenario written once and proved from the emulator's
 * journal and the app's final state.
 */
import { ACTION_ONLY, e2e, type Scenario } from "./fixtures/e2e.ts";
import { STALE_LEASE } from "./fixtures/given.ts";
import { WORKFLOW_TOKEN } from "./fixtures/records.ts";
import type { Then } from "./fixtures/then.ts";
import { image } from "./harness.ts";

/** Given: v2 deployed with `auto-promote: false` and held at 10%, over v1. */
function heldAt10(s: Scenario, app: string): Then {
  return s
    .given()
    .app(app)
    .when()
    .deploys({
      image: image("healthy-v2"),
      "revision-suffix": "v2",
      "traffic-steps": "50,100",
      "auto-promote": "false",
      "hold-at": "10",
    })
    .then()
    .expectSucceeded()
    .expectResult("held")
    .expectOutputs({ revision: `${app}--v2` })
    .expectRevisions({ v1: true, v2: true })
    .expectHeld(true)
    .expectInvariants({
      traffic: [
        { revisionName: `${app}--v1`, weight: 90, label: "blue" },
        { revisionName: `${app}--v2`, weight: 10, label: "green" },
      ],
    });
}

/** Given: v2 deployed and promoted over v1, which was deactivated. */
function promotedOverV1(s: Scenario, app: string): Then {
  return s
    .given()
    .app(app)
    .when()
    .deploys({ image: image("healthy-v2"), "revision-suffix": "v2" })
    .then()
    .expectSucceeded()
    .expectResult("promoted")
    .expectRevisions({ v1: false })
    .expectInvariants({ traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }] });
}

e2e((scenario) => {
  describe("Given a deploy held at 10%", () => {
    scenario(
      "when it is promoted, it continues through the remaining steps to 100% under the production label and v1 is deactivated",
      (s) => {
        const app = "ops-promote";
        return heldAt10(s, app)
          .when()
          .promotes()
          .then()
          .expectSucceeded()
          .expectResult("promoted")
          .expectOutputs({ revision: `${app}--v2` })
          .expectLog("[2/3] 50%", "[3/3] 100%")
          .expectRevisions({ v1: false, v2: true })
          .expectHeld(false)
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
            production: { label: "blue", revision: `${app}--v2` },
          });
      },
    );

    scenario(
      "when it is rejected, the traffic it found is restored exactly and the candidate deactivated",
      (s) => {
        const app = "ops-reject";
        return heldAt10(s, app)
          .when()
          .rejects()
          .then()
          .expectSucceeded()
          .expectResult("rolled-back")
          .expectRevisions({ v1: true, v2: false })
          .expectHeld(false)
          .expectInvariantsAsSeeded({ label: "blue", revision: `${app}--v1` });
      },
    );

    scenario(
      "when someone changed the traffic meanwhile, promote refuses and changes nothing",
      (s) => {
        const app = "ops-promote-drift";
        const drifted = [
          { revisionName: `${app}--v1`, weight: 70, label: "blue" },
          { revisionName: `${app}--v2`, weight: 30, label: "green" },
        ];
        return heldAt10(s, app)
          .when()
          .someoneSetsTraffic(drifted)
          .promotes()
          .then()
          .expectFailed()
          .expectLog("HeldStateChanged")
          .expectNoAzureWrites()
          .expectTraffic(drifted)
          .expectInvariants({ traffic: drifted });
      },
    );

    scenario("when a new deploy starts, it refuses to run over the held one", (s) => {
      const app = "ops-held-redeploy";
      return heldAt10(s, app)
        .when()
        .deploys({ image: image("healthy-v3"), "revision-suffix": "v3" })
        .then()
        .expectFailed()
        .expectLog("DeploymentHeld")
        .expectNoAzureWrites()
        .expectHeld(true)
        .expectInvariants({
          traffic: [
            { revisionName: `${app}--v1`, weight: 90, label: "blue" },
            { revisionName: `${app}--v2`, weight: 10, label: "green" },
          ],
        });
    });
  });

  describe("Given an app promoted from v1 to v2, with v1 deactivated", () => {
    scenario(
      "when it is rolled back, v1 is activated, checked on its own URL and given 100% in one traffic write, and v2 is deactivated",
      (s) => {
        const app = "ops-rollback";
        return promotedOverV1(s, app)
          .when()
          .rollsBack()
          .then()
          .expectSucceeded()
          .expectResult("rolled-back")
          .expectOutputs({ revision: `${app}--v1` })
          .expectRevisionPosts(["v1/activate", "v2/deactivate"])
          .expectTrafficWrites(1)
          .expectCheckedOnItsOwnUrl("v1")
          .expectRevisions({ v1: true, v2: false })
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
            production: { label: "blue", revision: `${app}--v1` },
          });
      },
    );

    scenario(
      "when it is rolled back to an explicit revision by suffix, that revision serves 100%",
      (s) => {
        const app = "ops-rollback-to";
        return promotedOverV1(s, app)
          .when()
          .deploys({ image: image("healthy-v3"), "revision-suffix": "v3" })
          .rollsBack({ "rollback-to": "v1", "skip-checks": "true" })
          .then()
          .expectSucceeded()
          .expectLogNamesInputs("skip-checks")
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
          });
      },
    );

    scenario(
      "when the status is asked for, the revisions, traffic and last promotion come back as JSON and nothing is written",
      (s) => {
        const app = "ops-status";
        return promotedOverV1(s, app)
          .when()
          .asksForStatus()
          .then()
          .expectSucceeded()
          .expectAzureReads()
          .expectNoAzureWrites()
          .expectRun((run) => {
            expect(run.outputs.status).toBeDefined();
            const status = JSON.parse(run.outputs.status) as {
              traffic: unknown;
              revisions: { name: string }[];
              lastPromotion?: unknown;
            };
            expect(status.traffic).toEqual([
              { revisionName: `${app}--v2`, weight: 100, label: "blue" },
            ]);
            expect(status.revisions.map((r) => r.name).sort()).toEqual([
              `${app}--v1`,
              `${app}--v2`,
            ]);
            expect(status.lastPromotion).toMatchObject({
              revision: `${app}--v2`,
              previous: `${app}--v1`,
            });
          })
          .expectSummary(`${app}--v2`)
          .expectAppUnchangedByTheAct()
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
          });
      },
    );
  });

  describe("Given two runs against the same app", () => {
    scenario(
      "when two deploys start together, one fails fast naming the holder and the app stays consistent",
      (s) => {
        const deployOf = (suffix: string) => ({
          image: image(`healthy-${suffix}`),
          "revision-suffix": suffix,
          "traffic-steps": "50,100",
        });
        return s
          .given()
          .app("ops-race")
          .when()
          .deploysTwiceAtOnce(deployOf("va"), deployOf("vb"))
          .then()
          .expectOneRunWonTheLease()
          .expectInvariants(({ run }) => ({
            traffic: [{ revisionName: run.outputs.revision, weight: 100, label: "blue" }],
          }));
      },
    );

    scenario(
      "when a lease is left by a run that is gone, the next deploy takes it over and says so",
      (s) => {
        const app = "ops-stale-lease";
        return s
          .given()
          .app(app, { tags: STALE_LEASE })
          .when()
          .deploys({ image: image("healthy-v2"), "revision-suffix": "v2" })
          .then()
          .expectSucceeded()
          .expectLog(/Taking over the lease of workflow "Deploy" run 1/)
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
          });
      },
    );
  });

  describe("Given v2 promoted with deactivate-previous: false", () => {
    scenario(
      "when it is rolled back, v1 (still running under the previous label) takes 100% without an activation",
      (s) => {
        const app = "ops-kept-previous";
        return s
          .given()
          .app(app)
          .when()
          .deploys({
            image: image("healthy-v2"),
            "revision-suffix": "v2",
            "deactivate-previous": "false",
          })
          .then()
          .expectSucceeded()
          .expectInvariants({
            traffic: [
              { revisionName: `${app}--v2`, weight: 100, label: "blue" },
              { revisionName: `${app}--v1`, weight: 0, label: "previous" },
            ],
          })
          .when()
          .rollsBack()
          .then()
          .expectSucceeded()
          .expectRevisionPosts(["v2/deactivate"])
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v1`, weight: 100, label: "blue" }],
          });
      },
    );
  });

  describe("Given a workflow token that may write deployments", () => {
    scenario(
      "when v2 then v3 are deployed, GitHub gets a deployment each, marked as the tool's, success with the app URL, and v2's turns inactive",
      (s) => {
        const app = "ops-deployments";
        const deployOf = (suffix: string) => ({
          image: image(`healthy-${suffix}`),
          "revision-suffix": suffix,
        });
        return s
          .given()
          .app(app)
          .recordStore()
          .when()
          .deploys(deployOf("v2"))
          .then()
          .expectSucceeded()
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
          })
          .when()
          .deploys(deployOf("v3"))
          .then()
          .expectSucceeded()
          .expectRecords(({ gitHub: api }, ctx) => {
            if (!api) throw new Error("The Action keeps its records in GitHub.");
            const deployments = api.deployments().filter((d) => d.environment === app);
            expect(deployments).toHaveLength(2);
            expect(deployments[0].states).toEqual(["success", "inactive"]);
            expect(deployments[1].states).toEqual(["success"]);
            expect(deployments[1].payload).toMatchObject({
              tool: "aca-blue-green",
              action: "deploy",
              revision: `${app}--v3`,
              result: "promoted",
            });
            const created = api.requests.find(
              (r) => r.method === "POST" && r.path.endsWith("/deployments"),
            );
            expect(created?.body).toMatchObject({
              task: "deploy:aca-blue-green",
              environment: app,
            });
            expect(deployments[1].environmentUrl).toBe(`https://${ctx.seeded.fqdn}`);
          })
          .expectLogHides(WORKFLOW_TOKEN)
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v3`, weight: 100, label: "blue" }],
          });
      },
      ACTION_ONLY,
    );
  });
});
