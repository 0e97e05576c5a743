/**
 * Records each rollout as a GitHub deployment, so the repository's Environments page shows which
 * revision serves the app, where it is, and the run that put it there, and `action: insights`
 * can read the rollout's record back from the payload. GitHub keeps a deployment's payload as it
 * was created, so the deployment is created when the run ends and its record is complete.
 * Recording is best effort: an error of the Deployments API is a warning, never a reason to stop
 * or fail a rollout.
 */
import { context, getOctokit } from "@actions/github";
import { errorMessage } from "../core/failure.ts";
import type { Log } from "../core/ports.ts";
import { RECORD_TOOL, type RolloutRecord } from "../core/insights/record.ts";

export type DeploymentState = "in_progress" | "success" | "failure" | "inactive" | "error";

/**
 * The `task` of every deployment this tool records. A job with `environment:` gets a deployment
 * of its own from GitHub, with the task `deploy`: this one sets the tool's apart, and the
 * payload (a RolloutRecord) says what the rollout did.
 */
export const DEPLOYMENT_TASK = "deploy:aca-blue-green";

export interface CreateOptions {
  /** GitHub environment the deployment is recorded in. */
  environment: string;
  /** What the run did: the deployment's payload. */
  record: RolloutRecord;
  /** Shown beside the deployment. */
  description: string;
  /** Commit or ref deployed; defaults to the record's commit, else GITHUB_SHA, else GITHUB_REF. */
  ref?: string;
  /** Whether end users reach this environment; default true, since the rollout moves their traffic. */
  productionEnvironment?: boolean;
}

/** A deploy's deployment that is still held, for the promote or reject that settles it. */
export interface HeldDeployment {
  id: number;
  sha: string;
}

export interface StatusOptions {
  description: string;
  /** The app's address, shown as the environment's "View deployment" link. */
  environmentUrl?: string;
  /** Where the rollout's log is; defaults to the workflow run. */
  logUrl?: string;
}

export interface GitHubDeploymentsOptions {
  /** Upper bound of each API call, so a slow API never holds up the rollout. */
  timeoutMs?: number;
}

type DeploymentLog = Pick<Log, "debug" | "info" | "warning">;
type Octokit = ReturnType<typeof getOctokit>;

interface Current {
  id: number;
  environment: string;
  revision?: string;
}

const TOOL = RECORD_TOOL;
/** GitHub rejects a status description longer than this. */
const MAX_DESCRIPTION = 140;
/** How many earlier deployments of the environment a success looks through for the active one. */
const MAX_EARLIER_CHECKED = 10;
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The GitHub deployment of one run: `create` with the run's record, then `update` with its state;
 * a promote or reject retires the held deployment it settled (`findHeld`, `retire`). Every method
 * resolves, whatever the API answers.
 */
export class GitHubDeployments {
  readonly #octokit: Octokit;
  readonly #owner: string;
  readonly #repo: string;
  readonly #ref: string;
  readonly #runUrl?: string;
  readonly #log: DeploymentLog;
  readonly #timeoutMs: number;
  #current?: Current;
  /** Set once the API gave no answer at all: later calls would only add their timeouts to the run. */
  #unreachable = false;

  private constructor(
    octokit: Octokit,
    target: { owner: string; repo: string; ref: string; runUrl?: string },
    log: DeploymentLog,
    timeoutMs: number,
  ) {
    this.#octokit = octokit;
    this.#owner = target.owner;
    this.#repo = target.repo;
    this.#ref = target.ref;
    this.#runUrl = target.runUrl;
    this.#log = log;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Deployments of the workflow's repository, through the API in GITHUB_API_URL; undefined (with a
   * debug note) when there is no token or the run is not a GitHub workflow.
   */
  static fromEnvironment(
    token: string | undefined,
    log: DeploymentLog,
    options: GitHubDeploymentsOptions = {},
  ): GitHubDeployments | undefined {
    if (!token) {
      log.debug("GitHub Deployments are not recorded: no github-token was given.");
      return undefined;
    }
    let repository: { owner: string; repo: string };
    try {
      repository = context.repo;
    } catch {
      log.debug("GitHub Deployments are not recorded: GITHUB_REPOSITORY is not set.");
      return undefined;
    }
    const ref = context.sha || context.ref;
    if (!ref) {
      log.debug("GitHub Deployments are not recorded: neither GITHUB_SHA nor GITHUB_REF is set.");
      return undefined;
    }
    const runUrl = context.runId
      ? `${context.serverUrl}/${repository.owner}/${repository.repo}/actions/runs/${context.runId}`
      : undefined;
    const octokit = getOctokit(token, { baseUrl: context.apiUrl, userAgent: TOOL });
    return new GitHubDeployments(
      octokit,
      { ...repository, ref, runUrl },
      withoutToken(log, token),
      options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
  }

  /** ID of the deployment this run records, once `create` created it. */
  get deploymentId(): number | undefined {
    return this.#current?.id;
  }

  /** Creates the deployment of the run's record; false when the API refused. */
  async create(options: CreateOptions): Promise<boolean> {
    this.#current = undefined;
    const created = await this.#call(
      `create a deployment in the environment "${options.environment}"`,
      (signal) =>
        this.#octokit.rest.repos.createDeployment({
          owner: this.#owner,
          repo: this.#repo,
          ref: options.ref ?? options.record.commit ?? this.#ref,
          task: DEPLOYMENT_TASK,
          environment: options.environment,
          description: truncate(options.description),
          payload: { ...options.record },
          // The ref was already built and checked by this workflow: no merge, no status checks.
          auto_merge: false,
          required_contexts: [],
          transient_environment: false,
          production_environment: options.productionEnvironment ?? true,
          request: { signal },
        }),
    );
    if (!created) return false;
    if (!("id" in created.data)) {
      this.#log.warning(
        `GitHub Deployments: no deployment was created in "${options.environment}": ${created.data.message ?? "the API answered without one"}. The rollout is not affected.`,
      );
      return false;
    }
    this.#current = {
      id: created.data.id,
      environment: options.environment,
      revision: options.record.revision,
    };
    this.#log.info(
      `GitHub deployment ${created.data.id} recorded in the environment "${options.environment}"`,
    );
    return true;
  }

  /**
   * The deployment a deploy run recorded for `revision` in `environment` while it is held, so
   * that the promote or reject settling it can retire it.
   */
  async findHeld(options: {
    environment: string;
    app: string;
    resourceGroup: string;
    revision: string;
  }): Promise<HeldDeployment | undefined> {
    const listed = await this.#call(
      `list the deployments of the environment "${options.environment}"`,
      (signal) =>
        this.#octokit.rest.repos.listDeployments({
          owner: this.#owner,
          repo: this.#repo,
          environment: options.environment,
          task: DEPLOYMENT_TASK,
          per_page: 100,
          request: { signal },
        }),
    );
    const found = (listed?.data ?? []).find((deployment) => {
      const payload = readPayload(deployment.payload);
      return (
        payload?.app === options.app &&
        payload.resourceGroup === options.resourceGroup &&
        payload.revision === options.revision &&
        payload.result === "held"
      );
    });
    if (!found) {
      this.#log.debug(
        `No held GitHub deployment of ${options.revision} found in the environment "${options.environment}".`,
      );
      return undefined;
    }
    if ((await this.#latestState(found.id)) !== "in_progress") return undefined;
    return { id: found.id, sha: found.sha };
  }

  /** Marks a deployment other than this run's inactive, such as the held one this run settled. */
  async retire(id: number, description: string): Promise<void> {
    await this.#call(`mark GitHub deployment ${id} inactive`, (signal) =>
      this.#octokit.rest.repos.createDeploymentStatus({
        owner: this.#owner,
        repo: this.#repo,
        deployment_id: id,
        state: "inactive",
        description: truncate(description),
        request: { signal },
      }),
    );
  }

  /**
   * Adds a status to this run's deployment. On `success` the deployment it replaces becomes
   * `inactive`, so the Environments page shows one active deployment per environment.
   */
  async update(state: DeploymentState, options: StatusOptions): Promise<void> {
    const current = this.#current;
    if (!current) {
      this.#log.debug(`No GitHub deployment to mark ${state}.`);
      return;
    }
    const logUrl = options.logUrl ?? this.#runUrl;
    const written = await this.#call(`mark GitHub deployment ${current.id} ${state}`, (signal) =>
      this.#octokit.rest.repos.createDeploymentStatus({
        owner: this.#owner,
        repo: this.#repo,
        deployment_id: current.id,
        state,
        description: truncate(options.description),
        ...(logUrl ? { log_url: logUrl } : {}),
        ...(options.environmentUrl ? { environment_url: options.environmentUrl } : {}),
        // GitHub's auto_inactive skips production environments and would retire deployments of
        // other tools in non-production ones; the replaced deployment is retired below instead.
        ...(state === "success" ? { auto_inactive: false } : {}),
        request: { signal },
      }),
    );
    if (written && state === "success") await this.#retireEarlier(current);
  }

  async #retireEarlier(current: Current): Promise<void> {
    const listed = await this.#call(
      `list the deployments of the environment "${current.environment}"`,
      (signal) =>
        this.#octokit.rest.repos.listDeployments({
          owner: this.#owner,
          repo: this.#repo,
          environment: current.environment,
          per_page: 100,
          request: { signal },
        }),
    );
    if (!listed) return;
    const position = listed.data.findIndex((deployment) => deployment.id === current.id);
    if (position === -1) return;
    // Newest first: those after this one are earlier. Only deployments this tool recorded.
    const earlier = listed.data
      .slice(position + 1)
      .filter((deployment) => readPayload(deployment.payload)?.tool === TOOL)
      .slice(0, MAX_EARLIER_CHECKED);
    for (const deployment of earlier) {
      const state = await this.#latestState(deployment.id);
      if (state === undefined) return;
      if (state !== "success") continue;
      await this.#call(`mark GitHub deployment ${deployment.id} inactive`, (signal) =>
        this.#octokit.rest.repos.createDeploymentStatus({
          owner: this.#owner,
          repo: this.#repo,
          deployment_id: deployment.id,
          state: "inactive",
          description: truncate(`Replaced by ${current.revision ?? `deployment ${current.id}`}`),
          request: { signal },
        }),
      );
      // Each success retires the one before it, so nothing older is still active.
      return;
    }
  }

  /** The state of a deployment's latest status: "none" when it has none, undefined on failure. */
  async #latestState(id: number): Promise<string | undefined> {
    const statuses = await this.#call(`read the status of GitHub deployment ${id}`, (signal) =>
      this.#octokit.rest.repos.listDeploymentStatuses({
        owner: this.#owner,
        repo: this.#repo,
        deployment_id: id,
        per_page: 1,
        request: { signal },
      }),
    );
    return statuses && (statuses.data[0]?.state ?? "none");
  }

  /** Runs one API call within the time budget; a failure becomes a warning and `undefined`. */
  async #call<T>(
    what: string,
    request: (signal: AbortSignal) => Promise<T>,
  ): Promise<T | undefined> {
    if (this.#unreachable) {
      this.#log.debug(`GitHub Deployments: did not ${what}: the API did not answer earlier.`);
      return undefined;
    }
    try {
      return await request(AbortSignal.timeout(this.#timeoutMs));
    } catch (error) {
      this.#unreachable = statusOf(error) === undefined;
      const skipped = this.#unreachable ? " Later calls of this run are skipped." : "";
      this.#log.warning(
        `GitHub Deployments: could not ${what}: ${describeFailure(error, this.#timeoutMs)}${hintFor(error)} The rollout is not affected.${skipped}`,
      );
      return undefined;
    }
  }
}

/**
 * The log, with the token taken out of every line: an API that echoes the token in its error must
 * not put it in the job's log, masked by the runner or not.
 */
function withoutToken(log: DeploymentLog, token: string): DeploymentLog {
  const clean = (message: string) => message.split(token).join("***");
  return {
    debug: (message) => log.debug(clean(message)),
    info: (message) => log.info(clean(message)),
    warning: (message) => log.warning(clean(message)),
  };
}

function readPayload(payload: unknown): Partial<RolloutRecord> | undefined {
  let value = payload;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return undefined;
    }
  }
  if (!value || typeof value !== "object") return undefined;
  const fields = value as Partial<RolloutRecord>;
  return fields.tool === TOOL ? fields : undefined;
}

function truncate(text: string): string {
  return text.length <= MAX_DESCRIPTION ? text : `${text.slice(0, MAX_DESCRIPTION - 1)}…`;
}

function statusOf(error: unknown): number | undefined {
  if (!error || typeof error !== "object" || !("response" in error) || !error.response) {
    return undefined;
  }
  const status = (error as { status?: unknown }).status;
  return typeof status === "number" ? status : undefined;
}

function timedOut(error: unknown): boolean {
  // Octokit wraps the abort of a timed-out fetch in its own error, keeping it as the cause.
  // Checked by name: the abort may come from another realm, where instanceof Error fails.
  for (let cause = error, depth = 0; depth < 5; depth++) {
    if (!cause || typeof cause !== "object") return false;
    if ((cause as { name?: unknown }).name === "TimeoutError") return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (timedOut(error)) return `no answer within ${timeoutMs} ms.`;
  const status = statusOf(error);
  if (!status) return `${oneLine(errorMessage(error))}.`;
  // The API's own one-line message, never its body: a proxy's HTML page or a long JSON document
  // says nothing a user can act on and may echo what was sent.
  const data = (error as { response?: { data?: unknown } }).response?.data;
  const said = (data as { message?: unknown } | undefined)?.message;
  return `HTTP ${status}${typeof said === "string" && said ? `: ${oneLine(said)}` : ""}.`;
}

/** One line of at most 200 characters, without a final stop. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, " ").trim().replace(/\.$/, "");
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

function hintFor(error: unknown): string {
  // GitHub answers 403 to an exhausted rate limit too, which no permission fixes.
  if (/rate limit/i.test(errorMessage(error))) return "";
  switch (statusOf(error)) {
    case 401:
      return " The github-token was not accepted.";
    case 403:
    case 404:
      return " The token needs the `deployments: write` permission: add it to the job's `permissions`, or set `github-token: ''` to stop recording deployments.";
    default:
      return "";
  }
}
