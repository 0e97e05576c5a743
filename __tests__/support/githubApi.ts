/**
 * A local stand-in for the GitHub REST API's Deployments endpoints and the compare of two commits,
 * answering with the response shapes of api.github.com, recording every request, and failing on
 * demand. Point GITHUB_API_URL at `url` to use it.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  /** Path without the query. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body; undefined when there was none. */
  body: unknown;
  authorization?: string;
}

export type DeploymentStatusState =
  "error" | "failure" | "inactive" | "in_progress" | "queued" | "pending" | "success";

/** What the API does with the next request, instead of answering it. */
export type Fault =
  | { status: number; message: string }
  /** An answer that is not the API's JSON, as a proxy or load balancer in between may give. */
  | { status: number; html: string }
  /** The connection is closed without an answer. */
  | "reset"
  /** The request is held until the server closes. */
  | "hang";

export interface GitHubApiOptions {
  /** The one repository that exists, `owner/name`. */
  repository?: string;
  /** Tokens the API knows and whether they may write deployments; any other token is refused. */
  tokens: Record<string, "write" | "read">;
  /** The default branch's history, oldest first: a straight line of commits. */
  commits?: SeedCommit[];
}

export interface SeedCommit {
  sha: string;
  message: string;
  /** ISO 8601. */
  committedAt: string;
}

export interface DeploymentView {
  id: number;
  ref: string;
  environment: string;
  productionEnvironment: boolean;
  payload: unknown;
  /** Status states, oldest first. */
  states: DeploymentStatusState[];
  /** The latest status's environment_url. */
  environmentUrl: string;
  logUrl: string;
}

export interface GitHubApi {
  /** Base URL, for GITHUB_API_URL. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  deployments(): DeploymentView[];
  /** Makes the next request (optionally: the next one matching `method` and `path`) fail. */
  failNext(fault: Fault, match?: { method?: string; path?: RegExp }): void;
  close(): Promise<void>;
}

const STATES: readonly DeploymentStatusState[] = [
  "error",
  "failure",
  "inactive",
  "in_progress",
  "queued",
  "pending",
  "success",
];
const DOCS = "https://docs.github.com/rest/deployments";

interface StoredDeployment {
  id: number;
  node_id: string;
  sha: string;
  ref: string;
  task: string;
  payload: unknown;
  original_environment: string;
  environment: string;
  description: string | null;
  created_at: string;
  updated_at: string;
  transient_environment: boolean;
  production_environment: boolean;
  statuses: StoredStatus[];
}

interface StoredStatus {
  id: number;
  node_id: string;
  state: DeploymentStatusState;
  description: string;
  environment: string;
  target_url: string;
  log_url: string;
  environment_url: string;
  created_at: string;
  updated_at: string;
}

class ApiError extends Error {
  readonly status: number;
  readonly documentationUrl: string;
  readonly errors?: unknown[];

  constructor(status: number, message: string, documentationUrl = DOCS, errors?: unknown[]) {
    super(message);
    this.status = status;
    this.documentationUrl = documentationUrl;
    this.errors = errors;
  }
}

export async function startGitHubApi(options: GitHubApiOptions): Promise<GitHubApi> {
  const repository = options.repository ?? "contoso/shop";
  const requests: RecordedRequest[] = [];
  const deployments: StoredDeployment[] = [];
  const faults: { fault: Fault; method?: string; path?: RegExp }[] = [];
  const commits = options.commits ?? [];
  let nextId = 1;
  let base = "";

  const actor = () => ({
    login: "github-actions[bot]",
    id: 41898282,
    node_id: "MDM6Qm90NDE4OTgyODI=",
    avatar_url: "https://avatars.githubusercontent.com/in/15368?v=4",
    gravatar_id: "",
    url: `${base}/users/github-actions%5Bbot%5D`,
    html_url: "https://github.com/apps/github-actions",
    followers_url: `${base}/users/github-actions%5Bbot%5D/followers`,
    following_url: `${base}/users/github-actions%5Bbot%5D/following{/other_user}`,
    gists_url: `${base}/users/github-actions%5Bbot%5D/gists{/gist_id}`,
    starred_url: `${base}/users/github-actions%5Bbot%5D/starred{/owner}{/repo}`,
    subscriptions_url: `${base}/users/github-actions%5Bbot%5D/subscriptions`,
    organizations_url: `${base}/users/github-actions%5Bbot%5D/orgs`,
    repos_url: `${base}/users/github-actions%5Bbot%5D/repos`,
    events_url: `${base}/users/github-actions%5Bbot%5D/events{/privacy}`,
    received_events_url: `${base}/users/github-actions%5Bbot%5D/received_events`,
    type: "Bot",
    user_view_type: "public",
    site_admin: false,
  });
  const repositoryUrl = () => `${base}/repos/${repository}`;
  const deploymentJson = (d: StoredDeployment) => {
    return {
      url: `${repositoryUrl()}/deployments/${d.id}`,
      id: d.id,
      node_id: d.node_id,
      sha: d.sha,
      ref: d.ref,
      task: d.task,
      payload: d.payload,
      original_environment: d.original_environment,
      environment: d.environment,
      description: d.description,
      creator: actor(),
      created_at: d.created_at,
      updated_at: d.updated_at,
      statuses_url: `${repositoryUrl()}/deployments/${d.id}/statuses`,
      repository_url: repositoryUrl(),
      transient_environment: d.transient_environment,
      production_environment: d.production_environment,
      performed_via_github_app: null,
    };
  };
  const statusJson = (d: StoredDeployment, s: StoredStatus) => ({
    url: `${repositoryUrl()}/deployments/${d.id}/statuses/${s.id}`,
    ...s,
    creator: actor(),
    deployment_url: `${repositoryUrl()}/deployments/${d.id}`,
    repository_url: repositoryUrl(),
    performed_via_github_app: null,
  });

  const commitJson = (c: SeedCommit, index: number) => {
    const person = { name: "Ada Lovelace", email: "ada@contoso.test", date: c.committedAt };
    const parent = commits[index - 1];
    return {
      url: `${repositoryUrl()}/commits/${c.sha}`,
      sha: c.sha,
      node_id: Buffer.from(`Commit${c.sha}`).toString("base64"),
      html_url: `https://github.com/${repository}/commit/${c.sha}`,
      comments_url: `${repositoryUrl()}/commits/${c.sha}/comments`,
      commit: {
        url: `${repositoryUrl()}/git/commits/${c.sha}`,
        author: person,
        committer: person,
        message: c.message,
        tree: { sha: createHash("sha1").update(`tree${c.sha}`).digest("hex"), url: "" },
        comment_count: 0,
        verification: { verified: false, reason: "unsigned", signature: null, payload: null },
      },
      author: null,
      committer: null,
      parents: parent
        ? [
            {
              sha: parent.sha,
              url: `${repositoryUrl()}/commits/${parent.sha}`,
              html_url: `https://github.com/${repository}/commit/${parent.sha}`,
            },
          ]
        : [],
    };
  };

  /** As GitHub compares on a straight history: what head has that base has not, oldest first. */
  const compare = (basehead: string, query: Record<string, string>) => {
    const [baseRef, headRef, ...rest] = basehead.split("...");
    const base = commits.findIndex((c) => c.sha === baseRef);
    const head = commits.findIndex((c) => c.sha === headRef);
    if (rest.length > 0 || headRef === undefined || base === -1 || head === -1) {
      throw new ApiError(
        404,
        "Not Found",
        `${DOCS.replace("deployments", "commits")}/commits#compare-two-commits`,
      );
    }
    const ahead = commits.slice(base + 1, head + 1).map((c) => commitJson(c, commits.indexOf(c)));
    const behindBy = Math.max(0, base - head);
    return {
      url: `${repositoryUrl()}/compare/${basehead}`,
      html_url: `https://github.com/${repository}/compare/${basehead}`,
      permalink_url: `https://github.com/${repository}/compare/${basehead}`,
      diff_url: `https://github.com/${repository}/compare/${basehead}.diff`,
      patch_url: `https://github.com/${repository}/compare/${basehead}.patch`,
      base_commit: commitJson(commits[base], base),
      merge_base_commit: commitJson(commits[Math.min(base, head)], Math.min(base, head)),
      status: ahead.length > 0 ? "ahead" : behindBy > 0 ? "behind" : "identical",
      ahead_by: ahead.length,
      behind_by: behindBy,
      total_commits: ahead.length,
      commits: page(ahead, query),
      files: [],
    };
  };

  const addStatus = (
    d: StoredDeployment,
    fields: Partial<StoredStatus> & { state: DeploymentStatusState },
  ): StoredStatus => {
    const now = new Date().toISOString();
    const id = nextId++;
    const logUrl = fields.log_url ?? fields.target_url ?? "";
    const status: StoredStatus = {
      id,
      node_id: Buffer.from(`DeploymentStatus${id}`).toString("base64"),
      state: fields.state,
      description: fields.description ?? "",
      environment: fields.environment ?? d.statuses.at(-1)?.environment ?? d.environment,
      target_url: logUrl,
      log_url: logUrl,
      environment_url: fields.environment_url ?? "",
      created_at: now,
      updated_at: now,
    };
    d.statuses.push(status);
    d.updated_at = now;
    return status;
  };

  const authorize = (request: IncomingMessage, write: boolean) => {
    const header = request.headers.authorization;
    if (!header) throw new ApiError(401, "Requires authentication", "https://docs.github.com/rest");
    const token = /^(?:token|bearer)\s+(.+)$/i.exec(header)?.[1];
    const access = token ? options.tokens[token] : undefined;
    if (!access) throw new ApiError(401, "Bad credentials", "https://docs.github.com/rest");
    if (write && access !== "write") {
      throw new ApiError(403, "Resource not accessible by integration");
    }
  };

  const findDeployment = (id: string): StoredDeployment => {
    const found = deployments.find((d) => String(d.id) === id);
    if (!found) throw new ApiError(404, "Not Found");
    return found;
  };

  const page = <T>(items: T[], query: Record<string, string>): T[] => {
    const perPage = Math.min(Math.max(Number(query.per_page ?? 30) || 30, 1), 100);
    const pageNumber = Math.max(Number(query.page ?? 1) || 1, 1);
    return items.slice((pageNumber - 1) * perPage, pageNumber * perPage);
  };

  const route = (
    request: IncomingMessage,
    path: string,
    query: Record<string, string>,
    body: unknown,
  ): { status: number; json: unknown } => {
    const compared = /^\/repos\/([^/]+)\/([^/]+)\/compare\/(.+)$/.exec(path);
    if (compared && (request.method ?? "GET") === "GET") {
      if (`${compared[1]}/${compared[2]}`.toLowerCase() !== repository.toLowerCase()) {
        throw new ApiError(404, "Not Found");
      }
      authorize(request, false);
      return { status: 200, json: compare(decodeURIComponent(compared[3]), query) };
    }
    const match = /^\/repos\/([^/]+)\/([^/]+)\/deployments(?:\/(\d+)\/statuses)?$/.exec(path);
    if (!match) throw new ApiError(404, "Not Found", "https://docs.github.com/rest");
    const [, owner, repo, deploymentId] = match;
    if (`${owner}/${repo}`.toLowerCase() !== repository.toLowerCase()) {
      throw new ApiError(404, "Not Found");
    }
    const method = request.method ?? "GET";
    const fields = (body ?? {}) as Record<string, unknown>;

    if (!deploymentId && method === "POST") {
      authorize(request, true);
      if (typeof fields.ref !== "string" || fields.ref === "") {
        throw new ApiError(422, 'Invalid request.\n\n"ref" wasn\'t supplied.');
      }
      const now = new Date().toISOString();
      const environment =
        typeof fields.environment === "string" ? fields.environment : "production";
      const id = nextId++;
      const stored: StoredDeployment = {
        id,
        node_id: Buffer.from(`Deployment${id}`).toString("base64"),
        sha: /^[0-9a-f]{40}$/.test(fields.ref)
          ? fields.ref
          : createHash("sha1").update(fields.ref).digest("hex"),
        ref: fields.ref,
        task: typeof fields.task === "string" ? fields.task : "deploy",
        payload: fields.payload ?? {},
        original_environment: environment,
        environment,
        description: typeof fields.description === "string" ? fields.description : "",
        created_at: now,
        updated_at: now,
        transient_environment: fields.transient_environment === true,
        production_environment:
          typeof fields.production_environment === "boolean"
            ? fields.production_environment
            : environment === "production",
        statuses: [],
      };
      deployments.push(stored);
      return { status: 201, json: deploymentJson(stored) };
    }

    if (!deploymentId && method === "GET") {
      authorize(request, false);
      const listed = [...deployments]
        .reverse()
        .filter(
          (d) =>
            (query.environment === undefined || d.environment === query.environment) &&
            (query.ref === undefined || d.ref === query.ref) &&
            (query.sha === undefined || d.sha === query.sha) &&
            (query.task === undefined || d.task === query.task),
        );
      return { status: 200, json: page(listed, query).map(deploymentJson) };
    }

    if (deploymentId && method === "POST") {
      authorize(request, true);
      const deployment = findDeployment(deploymentId);
      const state = fields.state as DeploymentStatusState;
      if (!STATES.includes(state)) {
        throw new ApiError(
          422,
          "Validation Failed",
          `${DOCS}/statuses#create-a-deployment-status`,
          [
            {
              resource: "DeploymentStatus",
              code: "custom",
              field: "state",
              message: "state is not included in the list",
            },
          ],
        );
      }
      if (typeof fields.description === "string" && fields.description.length > 140) {
        throw new ApiError(
          422,
          "Validation Failed",
          `${DOCS}/statuses#create-a-deployment-status`,
          [
            {
              resource: "DeploymentStatus",
              code: "custom",
              field: "description",
              message: "description is too long (maximum is 140 characters)",
            },
          ],
        );
      }
      const text = (name: string) =>
        typeof fields[name] === "string" ? (fields[name] as string) : undefined;
      const status = addStatus(deployment, {
        state,
        description: text("description"),
        log_url: text("log_url"),
        target_url: text("target_url"),
        environment_url: text("environment_url"),
        environment: text("environment"),
      });
      // As documented: a success retires earlier non-transient, non-production deployments of
      // the same environment that had succeeded, unless auto_inactive is false.
      if (state === "success" && fields.auto_inactive !== false) {
        for (const other of deployments) {
          if (
            other !== deployment &&
            other.environment === deployment.environment &&
            !other.transient_environment &&
            !other.production_environment &&
            other.statuses.some((s) => s.state === "success") &&
            other.statuses.at(-1)?.state !== "inactive"
          ) {
            addStatus(other, { state: "inactive" });
          }
        }
      }
      return { status: 201, json: statusJson(deployment, status) };
    }

    if (deploymentId && method === "GET") {
      authorize(request, false);
      const deployment = findDeployment(deploymentId);
      const listed = [...deployment.statuses].reverse();
      return { status: 200, json: page(listed, query).map((s) => statusJson(deployment, s)) };
    }

    throw new ApiError(404, "Not Found", "https://docs.github.com/rest");
  };

  const send = (response: ServerResponse, status: number, json: unknown) => {
    response.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "x-github-media-type": "github.v3; format=json",
      "x-github-request-id": `${process.pid.toString(16)}:${requests.length.toString(16)}`,
    });
    response.end(JSON.stringify(json));
  };

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const url = new URL(request.url ?? "/", "http://127.0.0.1");
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = text ? (JSON.parse(text) as unknown) : undefined;
      } catch {
        send(response, 400, { message: "Problems parsing JSON", documentation_url: DOCS });
        return;
      }
      const recorded: RecordedRequest = {
        method: request.method ?? "GET",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body,
        authorization: request.headers.authorization,
      };
      requests.push(recorded);
      const index = faults.findIndex(
        (f) =>
          (!f.method || f.method === recorded.method) && (!f.path || f.path.test(recorded.path)),
      );
      if (index !== -1) {
        const [{ fault }] = faults.splice(index, 1);
        if (fault === "reset") request.socket.destroy();
        else if (fault !== "hang" && "html" in fault) {
          response.writeHead(fault.status, { "content-type": "text/html" }).end(fault.html);
        } else if (fault !== "hang") {
          send(response, fault.status, { message: fault.message, documentation_url: DOCS });
        }
        return;
      }
      try {
        const answer = route(request, url.pathname, recorded.query, body);
        send(response, answer.status, answer.json);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        send(response, error.status, {
          message: error.message,
          ...(error.errors ? { errors: error.errors } : {}),
          documentation_url: error.documentationUrl,
          status: String(error.status),
        });
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    requests,
    deployments: () =>
      deployments.map((d) => ({
        id: d.id,
        ref: d.ref,
        environment: d.environment,
        productionEnvironment: d.production_environment,
        payload: d.payload,
        states: d.statuses.map((s) => s.state),
        environmentUrl: d.statuses.at(-1)?.environment_url ?? "",
        logUrl: d.statuses.at(-1)?.log_url ?? "",
      })),
    failNext(fault, match = {}) {
      faults.push({ fault, ...match });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
