/**
 * `action: deploy` end to end, on the Action's bundle and on the task's: each scenario is written
 * once and proved from the emulator's journals and the app's final state.
 */
import { stepWindows } from "../../emulator/rehearsal.ts";
import { NODE20, e2e } from "./fixtures/e2e.ts";
import { SHORT_SMOKE, candidateShare, image } from "./harness.ts";

e2e((scenario) => {
  describe("Given an app serving v1 at 100%", () => {
    scenario(
      "when v2 is deployed through 10, 50, 100, its share of real requests rises step by step and it is promoted",
      (s) => {
        const app = "shop-progressive";
        return (
          s
            .given()
            .app(app)
            .underLoad()
            .when()
            // Each bake is long enough to count the candidate's share of the load in it.
            .deploys({
              image: image("healthy-v2"),
              "revision-suffix": "v2",
              "traffic-steps": "10,50,100",
              "step-wait": "2s",
            })
            .then()
            .expectSucceeded()
            .expectWeightsAskedFor("v2", [0, 10, 50, 100])
            .expectRun((run, ctx) => {
              const windows = stepWindows(run);
              expect(windows).toHaveLength(3);
              const ingress = ctx.emulator.ingressJournal();
              const fqdn = ctx.seeded.fqdn;
              const shares = windows.map((w) =>
                candidateShare(ingress, fqdn, `${app}--v2`, w.from + 300, w.to),
              );
              for (const { count } of shares) expect(count).toBeGreaterThan(10);
              expect(shares[0].share).toBeLessThan(0.3);
              expect(shares[1].share).toBeGreaterThan(shares[0].share);
              expect(shares[1].share).toBeGreaterThan(0.25);
              expect(shares[1].share).toBeLessThan(0.75);
              expect(shares[2].share).toBeGreaterThanOrEqual(0.95);
              const last = ingress.filter((e) => e.host === fqdn && e.time > windows[2].to - 300);
              expect(last.every((e) => e.revision === `${app}--v2`)).toBe(true);
            })
            .expectRevisions({ v1: false, v2: true })
            .expectEveryDeclaredOutput()
            .expectResult("promoted")
            .expectRun((run, ctx) => {
              const fqdn = ctx.seeded.fqdn;
              expect(run.outputs).toMatchObject({
                revision: `${app}--v2`,
                "previous-revision": `${app}--v1`,
                "app-url": `https://${fqdn}`,
                "label-url": `https://${app}---green.${fqdn.slice(app.length + 1)}`,
                image: image("healthy-v2"),
              });
              expect(run.outputs.traffic).toBe(
                JSON.stringify([{ revisionName: `${app}--v2`, weight: 100, label: "blue" }]),
              );
            })
            .expectSummary(`${app}--v2`, /promoted/i, "10%", "50%")
            .expectGroups()
            .expectInvariants({
              traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
              production: { label: "blue", revision: `${app}--v2` },
            })
        );
      },
      NODE20,
    );

    scenario(
      "when the candidate fails its smoke checks, it never receives production traffic and the app ends as it started",
      (s) =>
        s
          .given()
          .app("shop-smoke-fail")
          .when()
          .deploys({
            image: image("http500"),
            "revision-suffix": "bad",
            "traffic-steps": "10,100",
            ...SHORT_SMOKE,
          })
          .then()
          .expectFailed(/smoke check/i)
          .expectResult("failed-before-traffic")
          .expectLog(/SmokeChecksFailed|smoke checks/i)
          .expectNeverServedProduction("bad")
          .expectRevisions({ bad: false, v1: true })
          .expectInvariantsAsSeeded(),
      NODE20,
    );

    scenario(
      "when the same release is deployed again, nothing changes and the result is unchanged",
      (s) => {
        const app = "shop-rerun";
        const release = { image: image("healthy"), "revision-suffix": "v2" };
        return s
          .given()
          .app(app)
          .when()
          .deploys(release)
          .then()
          .expectSucceeded()
          .expectResult("promoted")
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
          })
          .when()
          .deploys(release)
          .then()
          .expectSucceeded()
          .expectResult("unchanged")
          .expectNoAzureWrites()
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
          });
      },
    );

    scenario(
      "when the run is a dry run, the plan is printed, Azure is read and never written to",
      (s) =>
        s
          .given()
          .app("shop-dry-run")
          .when()
          .deploys(
            { image: image("healthy"), "dry-run": "true", "traffic-steps": "20,100" },
            { timed: false },
          )
          .then()
          .expectSucceeded()
          .expectLog("step 1")
          .expectAzureReads()
          .expectNoAzureWrites()
          .expectInvariantsAsSeeded(),
    );

    scenario(
      "when it signs in with a client secret, the secret authenticates, is registered for masking, and reaches no other line, the summary or the outputs",
      (s) => {
        const app = "shop-client-secret";
        return s
          .given()
          .app(app)
          .clientSecretSignIn()
          .when()
          .deploys({ image: image("healthy"), "revision-suffix": "v2", "step-wait": "0s" })
          .then()
          .expectSucceeded()
          .expectLog("with a client secret")
          .expectSecretOnlyRegistered((ctx) => ctx.emulator.info.clientSecret)
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
          });
      },
      NODE20,
    );

    scenario(
      "when it signs in with a client secret for a dry run, it reads the app, writes nothing, and the secret stays out of the log",
      (s) =>
        s
          .given()
          .app("shop-secret-dry-run")
          .clientSecretSignIn()
          .when()
          .deploys(
            { image: image("healthy"), "dry-run": "true", "traffic-steps": "20,100" },
            { timed: false },
          )
          .then()
          .expectSucceeded()
          .expectLog("step 1")
          .expectAzureReads()
          .expectNoAzureWrites()
          .expectSecretOnlyRegistered((ctx) => ctx.emulator.info.clientSecret)
          .expectInvariantsAsSeeded(),
      NODE20,
    );
  });

  describe("Given an app split over three revisions with custom labels", () => {
    scenario(
      "when the candidate starts failing during step 2, the exact original split is restored",
      (s) => {
        const app = "shop-three-way";
        return (
          s
            .given()
            .app(app, {
              revisions: [
                { suffix: "a", image: image("healthy") },
                { suffix: "b", image: image("healthy") },
                { suffix: "c", image: image("healthy") },
              ],
              traffic: [
                { revisionName: `${app}--a`, weight: 60, label: "stable" },
                { revisionName: `${app}--b`, weight: 30, label: "beta" },
                { revisionName: `${app}--c`, weight: 10 },
              ],
            })
            .when()
            // The bake of step 2 is long enough for its checks to see the candidate fail.
            .deploys(
              {
                image: image("healthy"),
                "revision-suffix": "d",
                "traffic-steps": "10,50,100",
                "production-label": "stable",
                "step-wait": "3s",
              },
              { at: { line: "[2/3]", candidateServes: "http500" } },
            )
            .then()
            .expectFailed()
            .expectResult("rolled-back")
            .expectSummary(/rolled back/i)
            .expectWeightAskedFor("d", 50)
            .expectRevisions({ a: true, b: true, c: true, d: false })
            .expectInvariantsAsSeeded()
        );
      },
      NODE20,
    );
  });

  describe("Given a candidate that cannot start", () => {
    scenario("when its provisioning fails, the deploy ends cleanly before any traffic", (s) =>
      s
        .given()
        .app("shop-provision-fail")
        .revisionFault("fail-provisioning")
        .when()
        .deploys({ image: image("healthy"), "revision-suffix": "v2" })
        .then()
        .expectFailed()
        .expectResult("failed-before-traffic")
        // The service reports the failed write as final: it is sent once, never again.
        .expectLog("ContainerAppOperationError")
        .expectRun((_run, ctx) => {
          const creates = ctx.emulator
            .armJournal()
            .filter(
              (e) =>
                e.method === "PATCH" &&
                e.path.endsWith(`/containerApps/${ctx.app}`) &&
                JSON.stringify(e.body).includes('"revisionSuffix":"v2"'),
            );
          expect(creates).toHaveLength(1);
        })
        .expectInvariantsAsSeeded(),
    );

    scenario("when it crashes at start, the deploy ends cleanly before any traffic", (s) =>
      s
        .given()
        .app("shop-crash")
        .when()
        .deploys({ image: image("crash"), "revision-suffix": "v2" })
        .then()
        .expectFailed()
        .expectResult("failed-before-traffic")
        .expectInvariantsAsSeeded(),
    );

    scenario(
      "when it is not ready before readiness-timeout, the deploy ends cleanly before any traffic",
      (s) =>
        s
          .given()
          .app("shop-never-ready")
          .revisionFault("never-ready")
          .when()
          .deploys({ image: image("healthy"), "revision-suffix": "v2", "readiness-timeout": "2s" })
          .then()
          .expectFailed()
          .expectResult("failed-before-traffic")
          .expectLogNamesInputs("readiness-timeout")
          .expectRevisions({ v2: false })
          .expectInvariantsAsSeeded(),
    );
  });

  describe("Given a deploy interrupted during a bake", () => {
    // Each bake is long enough that the signal, sent as the step starts, arrives during it.
    const rollout = {
      image: image("healthy"),
      "revision-suffix": "v2",
      "traffic-steps": "10,50,100",
      "step-wait": "3s",
    };

    scenario.each([
      ["SIGINT", 1, 10],
      ["SIGTERM", 2, 50],
    ] as const)(
      "when the job is cancelled (%s) during step %s, the run restores the original traffic itself and the post step has nothing left to do",
      (s, signal, step, weight) =>
        s
          .given()
          .app(`shop-cancel-${step}`)
          .when()
          .deploys(rollout, { at: { line: `[${step}/3]`, signal } })
          .then()
          .expectFailed()
          .expectWeightAskedFor("v2", weight)
          .expectLog("Traffic restored")
          .expectRevisions({ v2: false })
          .expectInvariantsAsSeeded()
          .when()
          .postStepRuns()
          .then()
          .expectSucceeded()
          .expectLogOmits("Traffic restored")
          .expectInvariantsAsSeeded(),
      NODE20,
    );

    scenario.each([
      [1, 10],
      [2, 50],
    ] as const)(
      "when the process is killed outright during step %s, the post step restores the original traffic",
      (s, step, weight) =>
        s
          .given()
          .app(`shop-killed-${step}`)
          .when()
          .deploys(rollout, { at: { line: `[${step}/3]`, signal: "SIGKILL" } })
          .then()
          .expectKilledBy("SIGKILL")
          .expectApp((view, ctx) =>
            expect(view.traffic).toContainEqual(
              expect.objectContaining({ revisionName: ctx.revision("v2"), weight }),
            ),
          )
          .expectJournalInState()
          .when()
          .postStepRuns()
          .then()
          .expectSucceeded()
          .expectLog("Traffic restored")
          .expectRevisions({ v2: false })
          .expectInvariantsAsSeeded(),
      NODE20,
    );
  });

  describe("Given an app in Single revision mode", () => {
    scenario(
      "when v2 is deployed, the app switches to Multiple in the same write and v2 is promoted",
      (s) => {
        const app = "shop-single";
        return s
          .given()
          .app(app, { activeRevisionsMode: "Single", traffic: undefined })
          .when()
          .deploys({ image: image("healthy"), "revision-suffix": "v2" })
          .then()
          .expectSucceeded()
          .expectLog("switching it to Multiple")
          .expectApp((view) => expect(view.activeRevisionsMode).toBe("Multiple"))
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
          });
      },
    );
  });
});
