/**
 * `action: insights` on Azure Pipelines: the seeded history attached to pipeline runs as the
 * agent keeps attachments, read back through the Build REST API of the local stand-in with the
 * job's access token, gives the keys worked out by hand.
 */
import { AzureDevOpsBuildHistory, RECORD_ATTACHMENT_TYPE } from "../../src/ado/rolloutRecords.ts";
import { startAzureDevOpsApi, type AzureDevOpsApi } from "../support/azureDevOpsApi.ts";
import {
  APP,
  COMMITS,
  EXPECTED,
  NOW,
  RECORDS,
  RESOURCE_GROUP,
} from "../support/insightsHistory.ts";
import { insightsInputs, runInsightsAt } from "../support/insightsRun.ts";

const TOKEN = "job-access-token-0123456789";
let api: AzureDevOpsApi;

beforeAll(async () => {
  api = await startAzureDevOpsApi({ accessToken: TOKEN, commits: COMMITS });
  for (const record of RECORDS) {
    const startTime = new Date(Date.parse(record.startedAt) - 60_000).toISOString();
    const buildId = api.addBuild({
      sourceVersion: record.commit ?? "",
      startTime,
      tags: ["aca-blue-green"],
    });
    api.applyStep(buildId, {
      attachments: [
        {
          type: RECORD_ATTACHMENT_TYPE,
          name: `${record.app}-${record.action}`,
          content: JSON.stringify({ ...record, buildId }),
        },
        // Another task's attachment on the same run.
        { type: "DistributedTask.Core.Summary", name: "summary.md", content: "# Summary" },
      ],
      tags: [],
    });
  }
  // A run that was not tagged is not read, whatever it carries.
  const untagged = api.addBuild({
    sourceVersion: COMMITS[3].sha,
    startTime: "2026-03-03T00:00:00Z",
  });
  api.applyStep(untagged, {
    attachments: [
      { type: RECORD_ATTACHMENT_TYPE, name: "shop-deploy", content: JSON.stringify(RECORDS[2]) },
    ],
    tags: [],
  });
});

afterAll(async () => {
  await api.close();
});

const history =
  (token = TOKEN) =>
  () =>
    new AzureDevOpsBuildHistory({
      collectionUrl: api.collectionUrl,
      project: api.project,
      accessToken: token,
    });

describe("insights from pipeline run attachments", () => {
  test("computes the four keys of the seeded history", async () => {
    const inputs = insightsInputs({ "resource-group": RESOURCE_GROUP, "container-app": APP });
    const before = api.requests.length;
    const run = await runInsightsAt(NOW, inputs, history());

    expect(run.failure).toBeUndefined();
    expect(run.warnings).toEqual([]);
    expect(run.report).toMatchObject({
      deploymentFrequency: { deploys: EXPECTED.deploys, value: EXPECTED.perDay },
      leadTime: {
        commits: EXPECTED.commits,
        value: EXPECTED.leadTimeMedianMs,
        p90: EXPECTED.leadTimeP90Ms,
      },
      changeFailureRate: {
        failures: EXPECTED.failures,
        reachedTraffic: EXPECTED.reachedTraffic,
        value: EXPECTED.changeFailureRate,
        band: { cluster: EXPECTED.bands.changeFailureRate },
      },
      recoveryTime: {
        value: EXPECTED.recoveryMedianMs,
        band: { cluster: EXPECTED.bands.recoveryTime },
      },
      source: "the pipeline runs of the project webapp tagged aca-blue-green",
    });
    const requests = api.requests.slice(before);
    const lists = requests.filter((r) => r.path.endsWith("/_apis/build/builds"));
    expect(lists.every((r) => r.query.tagFilters === "aca-blue-green")).toBe(true);
    expect(requests.filter((r) => r.path.endsWith("/_apis/build/changes"))).toHaveLength(4);
  });

  test("fails, saying why, when the API refuses the token", async () => {
    const inputs = insightsInputs({ "resource-group": RESOURCE_GROUP, "container-app": APP });
    const run = await runInsightsAt(NOW, inputs, history("not-the-job-token"));
    expect(run.exitCode).toBe(1);
    expect(run.failure).toMatch(
      /^Reading the pipeline runs of the project webapp tagged aca-blue-green failed: TF400813: The user is not authorized/,
    );
    expect(run.failure).not.toContain("not-the-job-token");
  });
});
