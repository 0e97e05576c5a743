/**
 * A local stand-in for the Azure DevOps Build REST API as `action: insights` reads it: the area's
 * resource locations (which the azure-devops-node-api client asks for first), pipeline runs
 * filtered by tag and start time, their attachments, and the commits between two runs. It records
 * every request and accepts only the job's access token. Attachments get there as the agent puts
 * them: from the `##vso[task.addattachment]` and `##vso[build.addbuildtag]` commands of a step.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SeedCommit } from "./githubApi.ts";

export interface AzureDevOpsApiOptions {
  organization?: string;
  project?: string;
  /** The job's access token (System.AccessToken); any other is refused. */
  accessToken: string;
  /** The repository's history, oldest first. */
  commits?: SeedCommit[];
}

export interface SeedBuild {
  /** The commit the run built (Build.SourceVersion). */
  sourceVersion: string;
  startTime: string;
  tags?: string[];
  definition?: { id: number; name: string };
}

export interface SeedAttachment {
  type: string;
  name: string;
  content: string;
}

export interface AzureDevOpsApi {
  /** The collection URL, for System.CollectionUri. */
  readonly collectionUrl: string;
  readonly project: string;
  readonly requests: { method: string; path: string; query: Record<string, string> }[];
  addBuild(build: SeedBuild): number;
  attach(buildId: number, attachment: SeedAttachment): void;
  /** What the agent does with a step's logging commands: its attachments and tags join the run. */
  applyStep(buildId: number, step: { attachments: SeedAttachment[]; tags: string[] }): void;
  close(): Promise<void>;
}

interface StoredBuild extends Required<SeedBuild> {
  id: number;
  attachments: (SeedAttachment & { timelineId: string; recordId: string })[];
}

/** The Build area's resource locations, as the service describes them to an OPTIONS request. */
const LOCATIONS = [
  ["0cd358e1-9217-4d94-8269-1c1ee6f93dcf", "builds", "{project}/_apis/build/builds/{buildId}", 7],
  [
    "f2192269-89fa-4f94-baf6-8fb128c55159",
    "attachments",
    "{project}/_apis/build/builds/{buildId}/attachments/{type}",
    2,
  ],
  [
    "af5122d3-3438-485e-a25a-2dbbfde84ee6",
    "attachment",
    "{project}/_apis/build/builds/{buildId}/{timelineId}/{recordId}/attachments/{type}/{name}",
    2,
  ],
  ["f10f0ea5-18a1-43ec-a8fb-2042c7be9b43", "changes", "{project}/_apis/build/changes", 2],
].map(([id, resourceName, routeTemplate, resourceVersion]) => ({
  id,
  area: "build",
  resourceName,
  routeTemplate,
  resourceVersion,
  minVersion: "2.0",
  maxVersion: "7.2",
  releasedVersion: "7.1",
}));

export async function startAzureDevOpsApi(options: AzureDevOpsApiOptions): Promise<AzureDevOpsApi> {
  const organization = options.organization ?? "contoso";
  const project = options.project ?? "webapp";
  const commits = options.commits ?? [];
  const builds: StoredBuild[] = [];
  const requests: AzureDevOpsApi["requests"] = [];
  let base = "";
  let nextId = 1000;

  const buildJson = (b: StoredBuild) => ({
    id: b.id,
    buildNumber: `${b.startTime.slice(0, 10).replace(/-/g, "")}.${b.id}`,
    status: "completed",
    result: "succeeded",
    queueTime: b.startTime,
    startTime: b.startTime,
    finishTime: b.startTime,
    sourceBranch: "refs/heads/main",
    sourceVersion: b.sourceVersion,
    tags: b.tags,
    definition: { ...b.definition, project: { name: project } },
    project: { name: project },
    url: `${base}/${organization}/${project}/_apis/build/Builds/${b.id}`,
    _links: {
      web: {
        href: `https://dev.azure.com/${organization}/${project}/_build/results?buildId=${b.id}`,
      },
    },
  });

  const route = (
    method: string,
    path: string,
    query: Record<string, string>,
  ): { status: number; json?: unknown; body?: string } => {
    if (method === "OPTIONS" && path === `/${organization}/_apis/build`) {
      return { status: 200, json: { count: LOCATIONS.length, value: LOCATIONS } };
    }
    const prefix = `/${organization}/${project}/_apis/build/`;
    if (method !== "GET" || !path.startsWith(prefix))
      return { status: 404, json: { message: `No route for ${method} ${path}` } };
    const rest = path.slice(prefix.length).split("/").map(decodeURIComponent);
    const buildOf = (id: string) => builds.find((b) => String(b.id) === id);
    if (rest.length === 1 && rest[0] === "builds") {
      const tags = (query.tagFilters ?? "").split(",").filter(Boolean);
      const minTime = query.minTime ? Date.parse(query.minTime) : -Infinity;
      const maxTime = query.maxTime ? Date.parse(query.maxTime) : Infinity;
      const top = Number(query.$top ?? 1000);
      const listed = builds
        .filter((b) => tags.every((tag) => b.tags.includes(tag)))
        .filter((b) => Date.parse(b.startTime) >= minTime && Date.parse(b.startTime) < maxTime)
        .sort((a, b) => Date.parse(b.startTime) - Date.parse(a.startTime))
        .slice(0, top);
      return { status: 200, json: { count: listed.length, value: listed.map(buildJson) } };
    }
    if (rest.length === 4 && rest[0] === "builds" && rest[2] === "attachments") {
      const build = buildOf(rest[1]);
      if (!build)
        return {
          status: 404,
          json: { message: `The requested build ${rest[1]} could not be found.` },
        };
      const value = build.attachments
        .filter((a) => a.type === rest[3])
        .map((a) => ({
          name: a.name,
          _links: {
            self: {
              href: `${base}/${organization}/${project}/_apis/build/builds/${build.id}/${a.timelineId}/${a.recordId}/attachments/${encodeURIComponent(a.type)}/${encodeURIComponent(a.name)}`,
            },
          },
        }));
      return { status: 200, json: { count: value.length, value } };
    }
    if (rest.length === 7 && rest[0] === "builds" && rest[4] === "attachments") {
      const found = buildOf(rest[1])?.attachments.find(
        (a) =>
          a.timelineId === rest[2] &&
          a.recordId === rest[3] &&
          a.type === rest[5] &&
          a.name === rest[6],
      );
      return found
        ? { status: 200, body: found.content }
        : { status: 404, json: { message: "Attachment not found." } };
    }
    if (rest.length === 1 && rest[0] === "changes") {
      const from = buildOf(query.fromBuildId ?? "");
      const to = buildOf(query.toBuildId ?? "");
      if (!from || !to)
        return { status: 404, json: { message: "The requested build could not be found." } };
      const start = commits.findIndex((c) => c.sha === from.sourceVersion);
      const end = commits.findIndex((c) => c.sha === to.sourceVersion);
      const value = (start === -1 || end === -1 ? [] : commits.slice(start + 1, end + 1))
        .reverse()
        .slice(0, Number(query.$top ?? 50))
        .map((c) => ({
          id: c.sha,
          message: c.message,
          type: "TfsGit",
          author: { displayName: "Ada Lovelace", uniqueName: "ada@contoso.test" },
          timestamp: c.committedAt,
          location: `${base}/${organization}/_apis/git/repositories/shop/commits/${c.sha}`,
        }));
      return { status: 200, json: { count: value.length, value } };
    }
    return { status: 404, json: { message: `No route for ${method} ${path}` } };
  };

  const send = (response: ServerResponse, status: number, json?: unknown, body?: string) => {
    if (body !== undefined) {
      response.writeHead(status, { "content-type": "application/octet-stream" });
      response.end(body);
      return;
    }
    response.writeHead(status, {
      "content-type": "application/json; charset=utf-8; api-version=7.1",
    });
    response.end(JSON.stringify(json ?? {}));
  };

  const server = http.createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on("end", () => {
      const url = new URL(request.url ?? "/", "http://127.0.0.1");
      const method = request.method ?? "GET";
      requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams) });
      if (request.headers.authorization !== `Bearer ${options.accessToken}`) {
        send(response, 401, {
          message: "TF400813: The user is not authorized to access this resource.",
        });
        return;
      }
      const answer = route(method, url.pathname, Object.fromEntries(url.searchParams));
      send(response, answer.status, answer.json, answer.body);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const api: AzureDevOpsApi = {
    collectionUrl: `${base}/${organization}/`,
    project,
    requests,
    addBuild(build) {
      const id = nextId++;
      builds.push({
        id,
        tags: [],
        definition: { id: 7, name: "shop-deploy" },
        ...build,
        attachments: [],
      });
      return id;
    },
    attach(buildId, attachment) {
      const build = builds.find((b) => b.id === buildId);
      if (!build) throw new Error(`no build ${buildId}`);
      build.attachments.push({ ...attachment, timelineId: randomUUID(), recordId: randomUUID() });
    },
    applyStep(buildId, step) {
      const build = builds.find((b) => b.id === buildId);
      if (!build) throw new Error(`no build ${buildId}`);
      // One timeline record per step: its attachments share it.
      const timelineId = randomUUID();
      const recordId = randomUUID();
      for (const attachment of step.attachments) {
        build.attachments.push({ ...attachment, timelineId, recordId });
      }
      for (const tag of step.tags) if (!build.tags.includes(tag)) build.tags.push(tag);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}
