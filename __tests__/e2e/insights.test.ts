/**
 * `action: insights` end to end on both hosts: the bundle reads the records real rollouts left (a
 * GitHub deployment, a pipeline run attachment) or a seeded history from the host's record store,
 * and reports the four keys.
 */
import type { InsightsReport } from "../../src/core/insights/insights.ts";
import { APP, EXPECTED, NOW, shiftedHistory } from "../support/insightsHistory.ts";
import { ACTION_ONLY, TASK_ONLY, e2e } from "./fixtures/e2e.ts";
import { WORKFLOW_TOKEN } from "./fixtures/records.ts";
import { SHORT_SMOKE, image } from "./harness.ts";

function expectSeededKeys(report: InsightsReport) {
  expect(report).toMatchObject({
    deploymentFrequency: {
      deploys: EXPECTED.deploys,
      band: { cluster: EXPECTED.bands.deploymentFrequency },
    },
    leadTime: {
      commits: EXPECTED.commits,
      value: EXPECTED.leadTimeMedianMs,
      p90: EXPECTED.leadTimeP90Ms,
    },
    changeFailureRate: {
      failures: EXPECTED.failures,
      reachedTraffic: EXPECTED.reachedTraffic,
      value: EXPECTED.changeFailureRate,
    },
    recoveryTime: { value: EXPECTED.recoveryMedianMs, recovered: 2 },
  });
}

/**
 * Node 24 warns, once per process, that azure-devops-node-api (the task's client of the Azure
 * DevOps API) calls `url.parse()`.
 */
const URL_PARSE_DEPRECATION =
  /^\(node:\d+\) \[DEP0169\] DeprecationWarning: `url\.parse\(\)`|^\(Use `node --trace-deprecation \.\.\.` to show where the warning was created\)$/;

const report = (outputs: Record<string, string>) => JSON.parse(outputs.insights) as InsightsReport;

e2e((scenario) => {
  describe("Given a record store holding the seeded history", () => {
    scenario("when insights runs over 30 days, it reports the history's known keys", (s) => {
      const { records, commits } = shiftedHistory(Date.now() - NOW);
      return s
        .given()
        .sharedApp(APP)
        .recordStore({ history: records, commits })
        .when()
        .asksForInsights({ window: "30d" })
        .then()
        .expectSucceeded({ stderrMayHold: URL_PARSE_DEPRECATION })
        .expectRun((run) => expectSeededKeys(report(run.outputs)))
        .expectNoAzureCalls()
        .expectInvariantsAsSeeded();
    });

    scenario("when the window is not a window, it fails naming the input and reads nothing", (s) =>
      s
        .given()
        .sharedApp(APP)
        .recordStore()
        .when()
        .asksForInsights({ window: "a month" })
        .then()
        .expectFailed()
        .expectLog('window: "a month" is not a window of days or weeks')
        .expectRecords((store) => expect(store.requests()).toEqual([]))
        .expectNoAzureCalls()
        .expectInvariantsAsSeeded(),
    );
  });

  describe("Given the Action, a GitHub repository and an app", () => {
    scenario(
      "when a deploy is promoted and the next fails before traffic, insights counts one deploy and no change failure, and ignores GitHub's own job deployment",
      (s) => {
        const app = "ins-github";
        const common = { "deployment-environment": "production" };
        return (
          s
            .given()
            .app(app)
            .recordStore()
            .when()
            .deploys({ ...common, image: image("healthy-v2"), "revision-suffix": "v2" })
            .then()
            .expectSucceeded()
            .expectInvariants({
              traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
            })
            .when()
            .deploys({
              ...common,
              image: image("http500"),
              "revision-suffix": "bad",
              ...SHORT_SMOKE,
            })
            .then()
            .expectResult("failed-before-traffic")
            .expectInvariants({
              traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
            })
            .when()
            .gitHubMakesAJobDeployment("production")
            .then()
            .expectRecords(({ gitHub: api }) => {
              const deployments = api?.deployments().filter((d) => d.environment === "production");
              expect(deployments?.map((d) => (d.payload as { result?: string }).result)).toEqual([
                "promoted",
                "failed-before-traffic",
                undefined,
              ]);
            })
            .when()
            .asksForInsights(common)
            .then()
            .expectSucceeded()
            .expectRun((run) => {
              const insights = report(run.outputs);
              expect(insights.deploymentFrequency.deploys).toBe(1);
              expect(insights.changeFailureRate).toMatchObject({
                failures: 0,
                reachedTraffic: 1,
                value: 0,
              });
              expect(insights.rollouts.map((r) => [r.revision, r.outcome])).toEqual([
                [`${app}--v2`, "promoted"],
                [`${app}--bad`, "failed-before-traffic"],
              ]);
            })
            .expectSummary("## 📈 Delivery insights", "```mermaid")
            .expectLogHides(WORKFLOW_TOKEN)
            // Insights reads; it never calls Azure.
            .expectNoAzureCalls()
            .expectInvariants({
              traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
            })
        );
      },
      ACTION_ONLY,
    );
  });

  describe("Given the task, an Azure DevOps project and an app", () => {
    scenario(
      "when a deploy is promoted, its run carries the record, and insights reads it back with the job's token",
      (s) => {
        const app = "ins-task";
        return s
          .given()
          .app(app)
          .recordStore()
          .when()
          .deploys({ image: image("healthy-v2"), "revision-suffix": "v2", "step-wait": "0s" })
          .then()
          .expectSucceeded()
          .expectRun((run) => {
            expect(run.task?.tags).toEqual(["aca-blue-green"]);
            expect(run.task?.attachments).toHaveLength(1);
            expect(JSON.parse(run.task?.attachments[0].content ?? "{}")).toMatchObject({
              buildId: Number(run.job?.BUILD_BUILDID),
              result: "promoted",
            });
          })
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
          })
          .when()
          .asksForInsights()
          .then()
          .expectSucceeded({ stderrMayHold: URL_PARSE_DEPRECATION })
          .expectRun((run, ctx) => {
            expect(report(run.outputs).rollouts.map((r) => [r.revision, r.outcome])).toEqual([
              [`${app}--v2`, "promoted"],
            ]);
            // The agent masks the job's token in the log; the outputs carry nothing of it.
            expect(JSON.stringify(run.outputs)).not.toContain(ctx.emulator.info.adoAccessToken);
          })
          .expectSummary("## 📈 Delivery insights")
          .expectNoAzureCalls()
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
          });
      },
      TASK_ONLY,
    );
  });
});
