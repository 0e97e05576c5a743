/**
 * `action: insights` end to end: the real Action bundle and the real task bundle read the records
 * that real rollouts left (a GitHub deployment, a pipeline run attachment) and a seeded history,
 * from the local GitHub API and Azure DevOps stand-ins, and report the four keys.
 */
import type { InsightsReport } from "../../src/core/insights/insights.ts";
import type { Emulator } from "../../emulator/types.ts";
import { startAzureDevOpsApi } from "../support/azureDevOpsApi.ts";
import { startGitHubApi } from "../support/githubApi.ts";
import { APP, EXPECTED, NOW, RESOURCE_GROUP, shiftedHistory } from "../support/insightsHistory.ts";
import { image, runAction, seedApp, startWorld, visibleLog } from "./harness.ts";
import { newJob, runTask } from "./taskHarness.ts";

const FAST = {
  "step-wait": "0s",
  "check-interval": "250ms",
  "smoke-timeout": "1500ms",
  "readiness-timeout": "20s",
};
const TOKEN = "ghs-insights-e2e-token";

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startWorld();
});
afterAll(async () => {
  await emulator?.stop();
});

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

describe("Given the Action, a GitHub repository and an app", () => {
  test("when a deploy is promoted and the next fails before traffic, insights counts one deploy and no change failure, and ignores GitHub's own job deployment", async () => {
    const app = "ins-github";
    await seedApp(emulator, app);
    const api = await startGitHubApi({ tokens: { [TOKEN]: "write" } });
    try {
      const env = { GITHUB_API_URL: api.url, NO_PROXY: "127.0.0.1" };
      const common = {
        "container-app": app,
        "github-token": TOKEN,
        "deployment-environment": "production",
        ...FAST,
      };
      const good = await runAction(emulator, {
        inputs: { ...common, image: image("healthy-v2"), "revision-suffix": "v2" },
        env,
      });
      expect(good.exitCode).toBe(0);
      const bad = await runAction(emulator, {
        inputs: { ...common, image: image("http500"), "revision-suffix": "bad" },
        env,
      });
      expect(bad.outputs.result).toBe("failed-before-traffic");
      // The deployment GitHub itself makes for a job with `environment: production`.
      await fetch(`${api.url}/repos/contoso/shop/deployments`, {
        method: "POST",
        headers: { authorization: `token ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ ref: "main", environment: "production", required_contexts: [] }),
      });

      const deployments = api.deployments().filter((d) => d.environment === "production");
      expect(deployments.map((d) => (d.payload as { result?: string }).result)).toEqual([
        "promoted",
        "failed-before-traffic",
        undefined,
      ]);

      const armCalls = emulator.armJournal().length;
      const run = await runAction(emulator, {
        inputs: {
          action: "insights",
          "container-app": app,
          "github-token": TOKEN,
          "deployment-environment": "production",
        },
        env,
      });
      expect(run.stderr).toBe("");
      expect(run.exitCode).toBe(0);
      const report = JSON.parse(run.outputs.insights) as InsightsReport;
      expect(report.deploymentFrequency.deploys).toBe(1);
      expect(report.changeFailureRate).toMatchObject({ failures: 0, reachedTraffic: 1, value: 0 });
      expect(report.rollouts.map((r) => [r.revision, r.outcome])).toEqual([
        [`${app}--v2`, "promoted"],
        [`${app}--bad`, "failed-before-traffic"],
      ]);
      expect(run.summary).toContain("## 📈 Delivery insights");
      expect(run.summary).toContain("```mermaid");
      expect(visibleLog(run)).not.toContain(TOKEN);
      // Insights reads; it never calls Azure.
      expect(emulator.armJournal().slice(armCalls)).toEqual([]);
    } finally {
      await api.close();
    }
  });

  test("when the repository holds the seeded history, insights reports its known keys", async () => {
    const offset = Date.now() - NOW;
    const { records, commits } = shiftedHistory(offset);
    const api = await startGitHubApi({ tokens: { [TOKEN]: "write" }, commits });
    try {
      for (const record of records) {
        await fetch(`${api.url}/repos/contoso/shop/deployments`, {
          method: "POST",
          headers: { authorization: `token ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({
            ref: record.commit,
            environment: APP,
            task: "deploy:aca-blue-green",
            payload: record,
            required_contexts: [],
          }),
        });
      }
      const run = await runAction(emulator, {
        inputs: {
          action: "insights",
          "resource-group": RESOURCE_GROUP,
          "container-app": APP,
          "github-token": TOKEN,
          window: "30d",
        },
        env: { GITHUB_API_URL: api.url, NO_PROXY: "127.0.0.1" },
      });
      expect(run.exitCode).toBe(0);
      expectSeededKeys(JSON.parse(run.outputs.insights) as InsightsReport);
    } finally {
      await api.close();
    }
  });

  test("when the window is not a window, it fails naming the input and reads nothing", async () => {
    const api = await startGitHubApi({ tokens: { [TOKEN]: "write" } });
    try {
      const run = await runAction(emulator, {
        inputs: {
          action: "insights",
          "container-app": APP,
          "github-token": TOKEN,
          window: "a month",
        },
        env: { GITHUB_API_URL: api.url, NO_PROXY: "127.0.0.1" },
      });
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toContain('window: "a month" is not a window of days or weeks');
      expect(api.requests).toEqual([]);
    } finally {
      await api.close();
    }
  });
});

describe("Given the task, an Azure DevOps project and an app", () => {
  test("when a deploy is promoted, its run carries the record, and insights reads it back with the job's token", async () => {
    const app = "ins-task";
    await seedApp(emulator, app);
    const devops = await startAzureDevOpsApi({ accessToken: emulator.info.adoAccessToken });
    try {
      const job: Record<string, string> = {
        ...newJob(),
        SYSTEM_COLLECTIONURI: devops.collectionUrl,
      };
      const deploy = await runTask(emulator, {
        inputs: {
          containerApp: app,
          image: image("healthy-v2"),
          revisionSuffix: "v2",
          stepWait: "0s",
          checkInterval: "250ms",
        },
        job,
      });
      expect(deploy.exitCode).toBe(0);
      expect(deploy.tags).toEqual(["aca-blue-green"]);
      expect(deploy.attachments).toHaveLength(1);
      const buildId = devops.addBuild({
        sourceVersion: job.BUILD_SOURCEVERSION,
        startTime: new Date(Date.now() - 60_000).toISOString(),
      });
      devops.applyStep(buildId, deploy);
      expect(JSON.parse(deploy.attachments[0].content)).toMatchObject({
        buildId: Number(job.BUILD_BUILDID),
        result: "promoted",
      });

      const run = await runTask(emulator, {
        inputs: { action: "insights", containerApp: app },
        job: { ...newJob(), SYSTEM_COLLECTIONURI: devops.collectionUrl },
        env: { NO_PROXY: "127.0.0.1" },
      });
      expect(run.exitCode).toBe(0);
      const report = JSON.parse(run.outputs.insights) as InsightsReport;
      expect(report.rollouts.map((r) => [r.revision, r.outcome])).toEqual([
        [`${app}--v2`, "promoted"],
      ]);
      expect(run.summary).toContain("## 📈 Delivery insights");
      // The agent masks the job's token in the log; the outputs carry nothing of it.
      expect(JSON.stringify(run.outputs)).not.toContain(emulator.info.adoAccessToken);
    } finally {
      await devops.close();
    }
  });

  test("when the project holds the seeded history, insights reports its known keys", async () => {
    const { records, commits } = shiftedHistory(Date.now() - NOW);
    const devops = await startAzureDevOpsApi({
      accessToken: emulator.info.adoAccessToken,
      commits,
    });
    try {
      for (const record of records) {
        const startTime = new Date(Date.parse(record.startedAt) - 60_000).toISOString();
        const buildId = devops.addBuild({ sourceVersion: record.commit ?? "", startTime });
        devops.applyStep(buildId, {
          attachments: [
            {
              type: "aca-blue-green.rollout",
              name: `${record.app}-${record.action}`,
              content: JSON.stringify({ ...record, buildId }),
            },
          ],
          tags: ["aca-blue-green"],
        });
      }
      const run = await runTask(emulator, {
        inputs: {
          action: "insights",
          resourceGroup: RESOURCE_GROUP,
          containerApp: APP,
          window: "30d",
        },
        job: { ...newJob(), SYSTEM_COLLECTIONURI: devops.collectionUrl },
        env: { NO_PROXY: "127.0.0.1" },
      });
      expect(run.exitCode).toBe(0);
      expectSeededKeys(JSON.parse(run.outputs.insights) as InsightsReport);
    } finally {
      await devops.close();
    }
  });
});
