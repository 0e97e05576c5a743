/**
 * Transient Azure failures during a rollout, end to end on both hosts: throttling, server errors
 * and broken connections are retried until the rollout completes, and a restore keeps going
 * through them.
 */
import { e2e } from "./fixtures/e2e.ts";
import { SHORT_SMOKE, image } from "./harness.ts";

e2e((scenario) => {
  describe("Given an Azure that throttles, fails and drops connections now and then", () => {
    scenario(
      "when v2 is deployed through 50, 100, the rollout retries through every fault and is promoted",
      (s) => {
        const app = "faults-deploy";
        return s
          .given()
          .app(app)
          .armFault((name) => ({
            kind: "status",
            status: 429,
            retryAfterSeconds: 1,
            count: 1,
            match: { method: "GET", pathContains: `/containerApps/${name}` },
          }))
          .armFault((name) => ({
            kind: "status",
            status: 503,
            count: 5,
            match: { method: "PATCH", pathContains: `/containerApps/${name}` },
          }))
          .armFault({
            kind: "reset",
            count: 1,
            match: { method: "POST", pathContains: "/deactivate" },
          })
          .when()
          .deploys({
            image: image("healthy-v2"),
            "revision-suffix": "v2",
            "traffic-steps": "50,100",
          })
          .then()
          .expectSucceeded()
          .expectResult("promoted")
          .expectRun((_run, ctx) => {
            const faults = ctx.emulator.armJournal().filter((e) => e.fault);
            expect(faults.map((e) => e.fault).sort()).toEqual(
              expect.arrayContaining([
                expect.stringMatching(/429/),
                expect.stringMatching(/503/),
                expect.stringMatching(/reset/),
              ]),
            );
            expect(faults.filter((e) => e.method === "PATCH")).toHaveLength(5);
          })
          .expectRevisions({ v1: false })
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
          });
      },
    );

    scenario(
      "when the candidate fails and Azure errors while the snapshot is restored, the restore keeps trying and succeeds",
      (s) =>
        s
          .given()
          .app("faults-restore")
          .when()
          .deploys(
            { image: image("http500"), "revision-suffix": "bad", ...SHORT_SMOKE },
            {
              at: {
                line: "Stopping:",
                armFault: { kind: "status", status: 500, count: 6, match: { method: "PATCH" } },
              },
            },
          )
          .then()
          .expectFailed()
          .expectResult("failed-before-traffic")
          .expectLog("Traffic restored")
          .expectRun((_run, ctx) =>
            expect(
              ctx.emulator.armJournal().filter((e) => e.fault && e.method === "PATCH"),
            ).toHaveLength(6),
          )
          .expectInvariantsAsSeeded(),
    );
  });
});
