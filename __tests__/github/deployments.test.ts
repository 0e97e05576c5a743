import type { RolloutRecord } from "../../src/core/insights/record.ts";
import type {
  CreateOptions,
  GitHubDeployments as GitHubDeploymentsClass,
} from "../../src/github/deployments.ts";
import { startGitHubApi, type GitHubApi } from "../support/githubApi.ts";

const TOKEN = "ghs_writeTokenForDeployments0001";
const READ_ONLY_TOKEN = "ghs_readOnlyTokenForDeployments02";
const SHA = "0123456789abcdef0123456789abcdef01234567";
const RUN_URL = "https://github.com/contoso/shop/actions/runs/4242";
const APP_URL = "https://shop.happyhill-1a2b3c.westeurope.azurecontainerapps.io";

interface Recorded {
  debug: string[];
  info: string[];
  warning: string[];
}

function recordingLog() {
  const lines: Recorded = { debug: [], info: [], warning: [] };
  return {
    lines,
    debug: (m: string) => lines.debug.push(m),
    info: (m: string) => lines.info.push(m),
    warning: (m: string) => lines.warning.push(m),
  };
}

function record(revision: string, extra: Partial<RolloutRecord> = {}): RolloutRecord {
  return {
    tool: "aca-blue-green",
    version: 1,
    action: "deploy",
    app: "shop",
    resourceGroup: "rg-shop",
    revision,
    image: `myregistry.azurecr.io/shop:${revision}`,
    commit: SHA,
    result: "promoted",
    startedAt: "2026-03-02T09:00:00.000Z",
    firstTrafficAt: "2026-03-02T09:01:00.000Z",
    promotedAt: "2026-03-02T09:02:00.000Z",
    finishedAt: "2026-03-02T09:03:00.000Z",
    runUrl: RUN_URL,
    ...extra,
  };
}

function createOptions(
  revision: string,
  extra: Partial<Omit<CreateOptions, "record">> & { record?: Partial<RolloutRecord> } = {},
): CreateOptions {
  const { record: fields, ...options } = extra;
  return {
    environment: "shop",
    record: record(revision, fields),
    description: `Deployed ${revision} to shop`,
    ...options,
  };
}

let api: GitHubApi;
let GitHubDeployments: typeof GitHubDeploymentsClass;
const savedEnv = { ...process.env };

beforeAll(async () => {
  api = await startGitHubApi({ tokens: { [TOKEN]: "write", [READ_ONLY_TOKEN]: "read" } });
  Object.assign(process.env, {
    GITHUB_API_URL: api.url,
    GITHUB_REPOSITORY: "contoso/shop",
    GITHUB_SHA: SHA,
    GITHUB_REF: "refs/heads/main",
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_RUN_ID: "4242",
  });
  // @actions/github reads the workflow's environment once, when it is first imported.
  ({ GitHubDeployments } = await import("../../src/github/deployments.ts"));
});

afterAll(async () => {
  await api.close();
  process.env = savedEnv;
});

function connect(token: string | undefined, timeoutMs?: number) {
  const log = recordingLog();
  const deployments = GitHubDeployments.fromEnvironment(token, log, { timeoutMs });
  return { log, deployments };
}

function connected(token = TOKEN, timeoutMs?: number) {
  const { log, deployments } = connect(token, timeoutMs);
  if (!deployments) throw new Error("expected GitHub Deployments to be on");
  return { log, deployments };
}

function byId(id: number | undefined) {
  const found = api.deployments().find((d) => d.id === id);
  if (!found) throw new Error(`deployment ${id} is not in the stand-in`);
  return found;
}

describe("GitHubDeployments against the GitHub API", () => {
  it("records a deploy with its record as the payload and the tool's task, then success with the app and run URLs", async () => {
    const { log, deployments } = connected();
    const before = api.requests.length;

    expect(await deployments.create(createOptions("shop--sha-0123456"))).toBe(true);
    await deployments.update("success", {
      description: "shop--sha-0123456 serves 100% of shop",
      environmentUrl: APP_URL,
    });

    const requests = api.requests.slice(before);
    expect(requests[0]).toMatchObject({
      method: "POST",
      path: "/repos/contoso/shop/deployments",
      authorization: `token ${TOKEN}`,
      body: {
        ref: SHA,
        task: "deploy:aca-blue-green",
        environment: "shop",
        auto_merge: false,
        required_contexts: [],
        transient_environment: false,
        production_environment: true,
        payload: {
          tool: "aca-blue-green",
          action: "deploy",
          app: "shop",
          resourceGroup: "rg-shop",
          revision: "shop--sha-0123456",
          image: "myregistry.azurecr.io/shop:shop--sha-0123456",
          result: "promoted",
          firstTrafficAt: "2026-03-02T09:01:00.000Z",
          promotedAt: "2026-03-02T09:02:00.000Z",
        },
      },
    });
    const recorded = byId(deployments.deploymentId);
    expect(recorded).toMatchObject({
      ref: SHA,
      environment: "shop",
      productionEnvironment: true,
      states: ["success"],
      environmentUrl: APP_URL,
      logUrl: RUN_URL,
    });
    expect(log.lines.warning).toEqual([]);
  });

  it("makes the deployment it replaces inactive when the next one succeeds", async () => {
    const first = connected().deployments;
    await first.create(createOptions("shop--v1", { environment: "replace" }));
    await first.update("success", { description: "v1 live", environmentUrl: APP_URL });

    const second = connected().deployments;
    await second.create(createOptions("shop--v2", { environment: "replace" }));
    expect(byId(first.deploymentId).states.at(-1)).toBe("success");
    await second.update("success", { description: "v2 live", environmentUrl: APP_URL });

    expect(byId(first.deploymentId).states).toEqual(["success", "inactive"]);
    expect(byId(second.deploymentId).states).toEqual(["success"]);
  });

  it("leaves the serving deployment active when a rollout fails", async () => {
    const first = connected().deployments;
    await first.create(createOptions("shop--v1", { environment: "failed-rollout" }));
    await first.update("success", { description: "v1 live", environmentUrl: APP_URL });

    const second = connected().deployments;
    await second.create(createOptions("shop--v2", { environment: "failed-rollout" }));
    await second.update("failure", {
      description: "Smoke check GET /healthz failed at 10%; traffic restored to shop--v1",
    });

    expect(byId(second.deploymentId)).toMatchObject({
      states: ["failure"],
      logUrl: RUN_URL,
    });
    expect(byId(first.deploymentId).states).toEqual(["success"]);
  });

  it("retires the replaced deployment in an environment that is not production too", async () => {
    const options = { environment: "staging", productionEnvironment: false };
    const first = connected().deployments;
    await first.create(createOptions("shop--v1", options));
    await first.update("success", { description: "v1 live" });
    const second = connected().deployments;
    await second.create(createOptions("shop--v2", options));
    await second.update("success", { description: "v2 live" });

    expect(byId(first.deploymentId).states).toEqual(["success", "inactive"]);
    expect(byId(second.deploymentId)).toMatchObject({
      productionEnvironment: false,
      states: ["success"],
    });
  });

  it("finds the held deploy's deployment in a later run, and retires it once settled", async () => {
    const held = {
      environment: "held",
      record: { result: "held" as const, promotedAt: undefined },
    };
    const deployRun = connected().deployments;
    await deployRun.create(createOptions("shop--v3", held));
    await deployRun.update("in_progress", { description: "Held at 10%: promote or reject" });

    const promoteRun = connected().deployments;
    const found = await promoteRun.findHeld({
      environment: "held",
      app: "shop",
      resourceGroup: "rg-shop",
      revision: "shop--v3",
    });
    await promoteRun.create(
      createOptions("shop--v3", { environment: "held", record: { action: "promote" } }),
    );
    await promoteRun.update("success", { description: "Promoted", environmentUrl: APP_URL });
    await promoteRun.retire(found?.id ?? 0, "Settled by promote");

    expect(found).toEqual({ id: deployRun.deploymentId, sha: SHA });
    expect(byId(deployRun.deploymentId).states).toEqual(["in_progress", "inactive"]);
    expect(byId(promoteRun.deploymentId).states).toEqual(["success"]);
    expect(
      await connected().deployments.findHeld({
        environment: "held",
        app: "shop",
        resourceGroup: "rg-shop",
        revision: "shop--v3",
      }),
    ).toBeUndefined();
  });

  it("finds nothing held for a revision no run recorded, and writes nothing", async () => {
    const { log, deployments } = connected();
    const found = await deployments.findHeld({
      environment: "held",
      app: "shop",
      resourceGroup: "rg-shop",
      revision: "shop--never-deployed",
    });
    const before = api.requests.length;
    await deployments.update("success", { description: "Promoted" });

    expect(found).toBeUndefined();
    expect(deployments.deploymentId).toBeUndefined();
    expect(api.requests.length).toBe(before);
    expect(log.lines.warning).toEqual([]);
  });

  it("cuts a long description to the 140 characters GitHub accepts", async () => {
    const { log, deployments } = connected();
    await deployments.create(createOptions("shop--v4", { environment: "long" }));
    await deployments.update("failure", { description: `Smoke checks failed: ${"x".repeat(300)}` });

    const last = api.requests.at(-1)?.body as { description: string };
    expect(last.description).toHaveLength(140);
    expect(byId(deployments.deploymentId).states).toEqual(["failure"]);
    expect(log.lines.warning).toEqual([]);
  });

  it("never marks inactive a deployment it did not record", async () => {
    const foreign = await fetch(`${api.url}/repos/contoso/shop/deployments`, {
      method: "POST",
      headers: { authorization: `token ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ ref: "main", environment: "shared", required_contexts: [] }),
    }).then((r) => r.json() as Promise<{ id: number; statuses_url: string }>);
    await fetch(foreign.statuses_url, {
      method: "POST",
      headers: { authorization: `token ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ state: "success" }),
    });

    const ours = connected().deployments;
    await ours.create(createOptions("shop--v10", { environment: "shared" }));
    await ours.update("success", { description: "v10 live", environmentUrl: APP_URL });

    expect(byId(foreign.id).states).toEqual(["success"]);
    expect(byId(ours.deploymentId).states).toEqual(["success"]);
  });
});

describe("GitHubDeployments when the API fails", () => {
  it("warns about a token without deployments: write and records nothing", async () => {
    const { log, deployments } = connected(READ_ONLY_TOKEN);
    const count = api.deployments().length;

    const started = await deployments.create(createOptions("shop--v5", { environment: "denied" }));
    await deployments.update("success", { description: "v5 live", environmentUrl: APP_URL });

    expect(started).toBe(false);
    expect(api.deployments().length).toBe(count);
    expect(log.lines.warning).toHaveLength(1);
    expect(log.lines.warning[0]).toContain("HTTP 403: Resource not accessible by integration");
    expect(log.lines.warning[0]).toContain("deployments: write");
    expect(log.lines.warning[0]).toContain("The rollout is not affected.");
    const everything = [...log.lines.debug, ...log.lines.info, ...log.lines.warning].join("\n");
    expect(everything).not.toContain(READ_ONLY_TOKEN);
  });

  it("warns about a server error on a status and keeps recording the rest", async () => {
    const { log, deployments } = connected();
    await deployments.create(createOptions("shop--v6", { environment: "flaky" }));
    api.failNext({ status: 502, message: "Server Error" }, { method: "POST", path: /statuses$/ });

    await deployments.update("in_progress", { description: "10% of traffic" });
    await deployments.update("success", { description: "v6 live", environmentUrl: APP_URL });

    expect(log.lines.warning).toEqual([
      expect.stringContaining(
        `could not mark GitHub deployment ${deployments.deploymentId} in_progress: HTTP 502: Server Error`,
      ),
    ]);
    expect(byId(deployments.deploymentId).states).toEqual(["success"]);
  });

  it("never prints the body of an answer that is not the API's own", async () => {
    const { log, deployments } = connected();
    await deployments.create(createOptions("shop--v6b", { environment: "proxied" }));
    const page = `<html><body><h1>502 Bad Gateway</h1><p>upstream said: ${"x".repeat(500)}</p></body></html>`;
    api.failNext({ status: 502, html: page }, { method: "POST", path: /statuses$/ });

    await deployments.update("in_progress", { description: "10% of traffic" });

    expect(log.lines.warning).toHaveLength(1);
    expect(log.lines.warning[0]).toContain("HTTP 502.");
    expect(log.lines.warning[0]).not.toContain("<html");
    expect(log.lines.warning[0]).not.toContain("upstream said");
  });

  it("warns when the connection drops, and makes no further calls in that run", async () => {
    const { log, deployments } = connected();
    api.failNext("reset", { method: "POST" });

    const started = await deployments.create(createOptions("shop--v7", { environment: "reset" }));
    const before = api.requests.length;
    const again = await deployments.create(createOptions("shop--v7", { environment: "reset" }));

    expect([started, again]).toEqual([false, false]);
    expect(api.requests.length).toBe(before);
    expect(log.lines.warning).toEqual([
      expect.stringContaining('could not create a deployment in the environment "reset"'),
    ]);
    expect(log.lines.warning[0]).toContain("Later calls of this run are skipped.");
  });

  it("gives up on an API that does not answer within its time budget", async () => {
    const { log, deployments } = connected(TOKEN, 300);
    await deployments.create(createOptions("shop--v8", { environment: "hang" }));
    api.failNext("hang", { method: "POST", path: /statuses$/ });

    await deployments.update("success", { description: "v8 live", environmentUrl: APP_URL });
    const before = api.requests.length;
    await deployments.update("failure", { description: "v8 failed" });

    expect(log.lines.warning).toEqual([
      expect.stringContaining(
        `could not mark GitHub deployment ${deployments.deploymentId} success: no answer within 300 ms.`,
      ),
    ]);
    expect(api.requests.length).toBe(before);
    expect(byId(deployments.deploymentId).states).toEqual([]);
  });

  it("does not blame the permission for an exhausted rate limit", async () => {
    const { log, deployments } = connected();
    api.failNext({ status: 403, message: "API rate limit exceeded for installation ID 1." });

    expect(await deployments.create(createOptions("shop--v11", { environment: "rate" }))).toBe(
      false,
    );
    expect(log.lines.warning).toEqual([
      expect.stringContaining("HTTP 403: API rate limit exceeded for installation ID 1"),
    ]);
    expect(log.lines.warning[0]).not.toContain("deployments: write");
  });

  it("warns about a token the API refuses", async () => {
    const { log, deployments } = connected("ghs_unknownToken000000000000000000");

    expect(await deployments.create(createOptions("shop--v9", { environment: "bad" }))).toBe(false);
    expect(log.lines.warning).toEqual([expect.stringContaining("HTTP 401: Bad credentials")]);
    expect(log.lines.warning[0]).not.toContain("ghs_unknownToken");
  });
});

describe("GitHubDeployments turned off", () => {
  it("is off, with a debug note, when there is no token", () => {
    const before = api.requests.length;
    for (const token of [undefined, ""]) {
      const { log, deployments } = connect(token);
      expect(deployments).toBeUndefined();
      expect(log.lines.debug).toEqual([expect.stringContaining("no github-token")]);
      expect(log.lines.warning).toEqual([]);
    }
    expect(api.requests.length).toBe(before);
  });

  it("is off outside a GitHub workflow", () => {
    const repository = process.env.GITHUB_REPOSITORY;
    delete process.env.GITHUB_REPOSITORY;
    try {
      const { log, deployments } = connect(TOKEN);
      expect(deployments).toBeUndefined();
      expect(log.lines.debug).toEqual([expect.stringContaining("GITHUB_REPOSITORY")]);
    } finally {
      process.env.GITHUB_REPOSITORY = repository;
    }
  });
});
