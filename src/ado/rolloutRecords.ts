/**
 * The deploy history on Azure Pipelines. An environment's deployment records carry no payload,
 * so each rollout attaches its record to the pipeline run (`##vso[task.addattachment]`) and tags
 * the run, and `action: insights` reads the records back through the Build REST API with the
 * job's access token: the tagged runs, their attachments, and the commits between two runs.
 */
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IncomingMessage } from "node:http";
import { BuildApi } from "azure-devops-node-api/BuildApi.js";
import { BearerCredentialHandler } from "azure-devops-node-api/handlers/bearertoken.js";
import { BuildQueryOrder } from "azure-devops-node-api/interfaces/BuildInterfaces.js";
import * as task from "azure-pipelines-task-lib/task.js";
import { errorMessage } from "../core/failure.ts";
import type { Rollout, SourcedRecord } from "../core/insights/history.ts";
import type { ReleasedCommit } from "../core/insights/keys.ts";
import { RECORD_TOOL, parseRecord, recordOf } from "../core/insights/record.ts";
import type { AppRef, RolloutHistory } from "../core/insights/source.ts";
import type { Log, RunContext } from "../core/ports.ts";
import type { RunHooks } from "../hosts/run.ts";

/** The attachment type of a rollout record; the agent keeps attachments by type and name. */
export const RECORD_ATTACHMENT_TYPE = "aca-blue-green.rollout";
/** The tag of every pipeline run that attached a record, so insights lists only those runs. */
export const RECORD_BUILD_TAG = RECORD_TOOL;
/** Runs asked for at a time; older ones are asked for next, by start time. */
const PAGE = 100;

/**
 * Attaches each finished rollout's record to the pipeline run, and opens the history for
 * `action: insights`.
 */
export function recordHooks(
  log: Pick<Log, "debug" | "warning">,
  context: () => RunContext,
  clock: { now(): number } = Date,
): RunHooks {
  let startedAt = 0;
  return {
    history: () => AzureDevOpsBuildHistory.fromAgent(),
    async before() {
      startedAt = clock.now();
    },
    async after(inputs, report) {
      if (!report.candidate) return;
      const run = context();
      const buildId = Number(task.getVariable("Build.BuildId"));
      const record = recordOf(report, {
        startedAt,
        finishedAt: clock.now(),
        commit: run.commitSha,
        runUrl: run.runUrl,
        ...(Number.isInteger(buildId) && buildId > 0 && { buildId }),
      });
      if (!record) return;
      if (!Number.isInteger(buildId) || buildId <= 0) {
        log.debug("The rollout's record is not attached: this is not a pipeline run.");
        return;
      }
      try {
        const folder = join(
          task.getVariable("Agent.TempDirectory") || tmpdir(),
          `aca-blue-green-${randomUUID()}`,
        );
        await mkdir(folder, { recursive: true });
        const file = join(folder, "rollout.json");
        await writeFile(file, `${JSON.stringify(record)}\n`, "utf8");
        task.addAttachment(RECORD_ATTACHMENT_TYPE, `${inputs.containerApp}-${inputs.action}`, file);
        task.addBuildTag(RECORD_BUILD_TAG);
      } catch (error) {
        log.warning(
          `The rollout's record could not be attached to the run: ${errorMessage(error)}. The rollout is not affected.`,
        );
      }
    },
  };
}

/** The records attached to the project's tagged pipeline runs, through the Build REST API. */
export class AzureDevOpsBuildHistory implements RolloutHistory {
  readonly description: string;
  readonly #builds: BuildApi;
  readonly #project: string;

  constructor(options: { collectionUrl: string; project: string; accessToken: string }) {
    this.#project = options.project;
    this.#builds = new BuildApi(
      options.collectionUrl,
      [new BearerCredentialHandler(options.accessToken, false)],
      {
        ...(task.getHttpProxyConfiguration(options.collectionUrl) && {
          proxy: task.getHttpProxyConfiguration(options.collectionUrl) ?? undefined,
        }),
        allowRetries: true,
        maxRetries: 3,
        socketTimeout: 30_000,
      },
    );
    this.description = `the pipeline runs of the project ${options.project} tagged ${RECORD_BUILD_TAG}`;
  }

  /** The agent's collection, project and the job's access token (System.AccessToken). */
  static fromAgent(): AzureDevOpsBuildHistory {
    const collectionUrl =
      task.getVariable("System.CollectionUri") ??
      task.getVariable("System.TeamFoundationCollectionUri");
    const project = task.getVariable("System.TeamProject");
    const accessToken = task.getEndpointAuthorizationParameter(
      "SystemVssConnection",
      "AccessToken",
      true,
    );
    if (!collectionUrl || !project) {
      throw new Error(
        "System.CollectionUri or System.TeamProject is not set: run insights in an Azure Pipelines job.",
      );
    }
    if (!accessToken) {
      throw new Error(
        "the job's access token (System.AccessToken) is not available to the task; run it in an Azure Pipelines job whose build service may read builds.",
      );
    }
    task.setSecret(accessToken);
    return new AzureDevOpsBuildHistory({ collectionUrl, project, accessToken });
  }

  async records(apps: readonly AppRef[], since: number): Promise<SourcedRecord[]> {
    const wanted = new Set(apps.map((a) => `${a.resourceGroup.toLowerCase()}/${a.app}`));
    const found: SourcedRecord[] = [];
    const seen = new Set<number>();
    // A run starts before its rollout step does: a day's margin keeps long pipelines in.
    const minTime = new Date(since - 86_400_000);
    let maxTime: Date | undefined;
    for (;;) {
      const builds = await this.#builds.getBuilds(
        this.#project,
        undefined,
        undefined,
        undefined,
        minTime,
        maxTime,
        undefined,
        undefined,
        undefined,
        undefined,
        [RECORD_BUILD_TAG],
        undefined,
        PAGE,
        undefined,
        undefined,
        undefined,
        BuildQueryOrder.StartTimeDescending,
      );
      for (const build of builds) {
        if (build.id === undefined || seen.has(build.id)) continue;
        seen.add(build.id);
        for (const record of await this.#recordsOf(build.id, build._links?.web?.href)) {
          if (!wanted.has(`${record.resourceGroup.toLowerCase()}/${record.app}`)) continue;
          if (Date.parse(record.startedAt) < since) continue;
          found.push(record);
        }
      }
      const oldest = builds.at(-1)?.startTime;
      if (builds.length < PAGE || !oldest) return found;
      maxTime = oldest;
    }
  }

  async commitsBetween(base: Rollout, head: Rollout): Promise<ReleasedCommit[]> {
    const from = base.records[0]?.buildId;
    const to = head.records[0]?.buildId;
    if (from === undefined || to === undefined) {
      throw new Error("its record names no pipeline run to read the commits from");
    }
    const changes = await this.#builds.getChangesBetweenBuilds(this.#project, from, to, 1000);
    return changes
      .filter((change) => change.id && change.timestamp)
      .map((change) => ({
        sha: change.id as string,
        committedAt: new Date(change.timestamp as Date).getTime(),
      }));
  }

  async #recordsOf(buildId: number, web: string | undefined): Promise<SourcedRecord[]> {
    const attachments = await this.#builds.getAttachments(
      this.#project,
      buildId,
      RECORD_ATTACHMENT_TYPE,
    );
    const records: SourcedRecord[] = [];
    for (const attachment of attachments) {
      // The list gives each attachment's address; the timeline and record IDs are only in it.
      const href: string | undefined = attachment._links?.self?.href;
      const match =
        href && /\/builds\/\d+\/([^/]+)\/([^/]+)\/attachments\//.exec(new URL(href).pathname);
      if (!match || !attachment.name) continue;
      const stream = await this.#builds.getAttachment(
        this.#project,
        buildId,
        match[1],
        match[2],
        RECORD_ATTACHMENT_TYPE,
        attachment.name,
      );
      const record = parseRecord(await text(stream));
      if (!record) continue;
      records.push({
        ...record,
        id: `${buildId}/${match[2]}/${attachment.name}`,
        url: record.runUrl ?? web,
      });
    }
    return records;
  }
}

/** The body of an attachment; the client hands back the response as it came, errors included. */
async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const status = (stream as Partial<IncomingMessage>).statusCode;
  if (status !== undefined && (status < 200 || status >= 300)) {
    throw new Error(`reading a rollout record answered HTTP ${status}`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
