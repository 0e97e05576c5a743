/**
 * `action: insights` on GitHub: the seeded history written as deployments through the real
 * writer, beside deployments the tool did not write, read back through the Deployments and
 * compare APIs of the local stand-in, gives the keys worked out by hand.
 */
import type { GitHubDeploymentHistory as HistoryClass } from "../../src/github/deploymentHistory.ts";
import type { GitHubDeployments as DeploymentsClass } from "../../src/github/deployments.ts";
import { startGitHubApi, type GitHubApi } from "../support/githubApi.ts";
import {
  APP,
  COMMITS,
  EXPECTED,
  NOW,
  RECORDS,
  RESOURCE_GROUP,
  WINDOW_MS,
} from "../support/insightsHistory.ts";
import { insightsInputs, runInsightsAt } from "../support/insightsRun.ts";

const TOKEN = "ghs_insightsTokenForDeployments01";
const quiet = { debug: () => undefined, info: () => undefined, warning: () => undefined };
let api: GitHubApi;
let GitHubDeployments: typeof DeploymentsClass;
let GitHubDeploymentHistory: typeof HistoryClass;
const savedEnv = { ...process.env };

async function post(path: string, body: unknown): Promise<{ id: number }> {
  const response = await fetch(`${api.url}${path}`, {
    method: "POST",
    headers: { authorization: `token ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await response.json()) as { id: number };
}

beforeAll(async () => {
  api = await startGitHubApi({ tokens: { [TOKEN]: "write" }, commits: COMMITS });
  Object.assign(process.env, {
    GITHUB_API_URL: api.url,
    GITHUB_REPOSITORY: "contoso/shop",
    GITHUB_SHA: COMMITS.at(-1)?.sha,
    GITHUB_SERVER_URL: "https://github.com",
  });
  ({ GitHubDeployments } = await import("../../src/github/deployments.ts"));
  ({ GitHubDeploymentHistory } = await import("../../src/github/deploymentHistory.ts"));
  for (const record of RECORDS) {
    // GitHub's own deployment of a job with `environment: shop`, beside each of the tool's.
    const job = await post("/repos/contoso/shop/deployments", {
      ref: record.commit,
      environment: APP,
      required_contexts: [],
    });
    await post(`/repos/contoso/shop/deployments/${job.id}/statuses`, { state: "success" });
    const deployments = GitHubDeployments.fromEnvironment(TOKEN, quiet);
    await deployments?.create({ environment: APP, record, description: record.result });
    await deployments?.update(record.result === "promoted" ? "success" : "failure", {
      description: record.result,
    });
  }
  // Another tool's deployment that happens to carry a payload.
  await post("/repos/contoso/shop/deployments", {
    ref: COMMITS[0].sha,
    environment: APP,
    task: "deploy:aca-blue-green",
    payload: { tool: "someone-else", app: APP },
    required_contexts: [],
  });
});

afterAll(async () => {
  await api.close();
  process.env = savedEnv;
});

describe("insights from GitHub deployments", () => {
  test("computes the four keys of the seeded history, counting only the tool's records", async () => {
    const inputs = insightsInputs({
      "resource-group": RESOURCE_GROUP,
      "container-app": APP,
      "github-token": TOKEN,
    });
    const before = api.requests.length;
    const run = await runInsightsAt(NOW, inputs, (i) => GitHubDeploymentHistory.fromEnvironment(i));
    const requests = api.requests.slice(before);

    expect(run.failure).toBeUndefined();
    expect(run.warnings).toEqual([]);
    const report = run.report!;
    expect(report.deploymentFrequency).toMatchObject({
      deploys: EXPECTED.deploys,
      value: EXPECTED.perDay,
      band: { cluster: EXPECTED.bands.deploymentFrequency },
      trend: EXPECTED.trends.deploymentFrequency,
    });
    expect(report.leadTime).toMatchObject({
      commits: EXPECTED.commits,
      value: EXPECTED.leadTimeMedianMs,
      p90: EXPECTED.leadTimeP90Ms,
      band: { cluster: EXPECTED.bands.leadTime },
    });
    expect(report.changeFailureRate).toMatchObject({
      failures: EXPECTED.failures,
      reachedTraffic: EXPECTED.reachedTraffic,
      value: EXPECTED.changeFailureRate,
      band: { cluster: EXPECTED.bands.changeFailureRate },
    });
    expect(report.recoveryTime).toMatchObject({
      value: EXPECTED.recoveryMedianMs,
      band: { cluster: EXPECTED.bands.recoveryTime },
      trend: EXPECTED.trends.recoveryTime,
    });
    expect(report.source).toBe(
      "the GitHub deployments of contoso/shop in the environment of each app (its name)",
    );
    expect(run.summary).toContain("[run 1](https://github.com/contoso/shop/actions/runs/6)");

    // Only the tool's deployments were listed, and each compare asked for one release.
    const lists = requests.filter((r) => r.method === "GET" && r.path.endsWith("/deployments"));
    expect(lists.every((r) => r.query.task === "deploy:aca-blue-green")).toBe(true);
    expect(lists.length).toBeGreaterThan(0);
    const compares = requests.filter((r) => r.path.includes("/compare/"));
    expect(compares).toHaveLength(4);
  });

  test("fails with the input to fix when there is no token", async () => {
    const inputs = insightsInputs({
      "resource-group": RESOURCE_GROUP,
      "container-app": APP,
      "github-token": "",
    });
    const run = await runInsightsAt(NOW, inputs, (i) => GitHubDeploymentHistory.fromEnvironment(i));
    expect(run.exitCode).toBe(1);
    expect(run.failure).toMatch(/github-token is empty/);
  });

  test("reads an environment given by deployment-environment, which holds none of these records", async () => {
    const inputs = insightsInputs({
      "resource-group": RESOURCE_GROUP,
      "container-app": APP,
      "github-token": TOKEN,
      "deployment-environment": "production",
      window: `${WINDOW_MS / 86_400_000}d`,
    });
    const run = await runInsightsAt(NOW, inputs, (i) => GitHubDeploymentHistory.fromEnvironment(i));
    expect(run.exitCode).toBe(0);
    expect(run.report?.rollouts).toEqual([]);
    expect(api.requests.at(-1)?.query.environment).toBe("production");
  });
});
