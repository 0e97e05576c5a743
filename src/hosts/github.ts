import { randomBytes } from "node:crypto";
import * as core from "@actions/core";
import { federationAudience } from "../azure/clouds.ts";
import type { CredentialSource } from "../azure/credentials.ts";
import type { RunContext, StateStore } from "../core/ports.ts";
import type { Inputs } from "../core/types.ts";
import type { Host } from "./host.ts";

/** The GitHub Actions runner, through @actions/core. */
/** Key of the run's identity in the step's state. */
const RUN_STATE_KEY = "aca-blue-green-run";

export class GitHubHost implements Host {
  #runId?: string;
  readonly #secrets: string[] = [];
  readonly platform = "github" as const;
  readonly state: StateStore = {
    save: (key, value) => core.saveState(key, value),
    load: (key) => core.getState(key) || undefined,
  };

  getInput(name: string): string | undefined {
    return core.getInput(name) || undefined;
  }

  inputName(name: string): string {
    return name;
  }

  setOutput(name: string, value: string): void {
    core.setOutput(name, value);
  }

  setSecret(value: string): void {
    this.#secrets.push(value);
    core.setSecret(value);
  }

  secrets(): readonly string[] {
    return this.#secrets;
  }

  async writeSummary(markdown: string): Promise<void> {
    if (!process.env.GITHUB_STEP_SUMMARY) return;
    await core.summary.addRaw(markdown, true).write();
  }

  setFailed(message: string): void {
    core.setFailed(message);
  }

  debug(message: string): void {
    core.debug(message);
  }

  info(message: string): void {
    core.info(message);
  }

  warning(message: string): void {
    core.warning(message);
  }

  error(message: string): void {
    core.error(message);
  }

  group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    return core.group(title, fn);
  }

  /**
   * Who runs: GitHub gives no variable unique to one matrix leg (every leg of a job has the same
   * `GITHUB_JOB`), so the run's identity is the run, attempt and job plus a random id made when the
   * main step starts and kept in the step's state, where the post step finds it.
   */
  context(): RunContext {
    const env = process.env;
    const runId = env.GITHUB_RUN_ID;
    const attempt = env.GITHUB_RUN_ATTEMPT ?? "1";
    const repository = env.GITHUB_REPOSITORY;
    const job = env.GITHUB_JOB ?? "";
    let id = this.#runId ?? this.state.load(RUN_STATE_KEY);
    if (!id) {
      id = runId
        ? `github:${repository ?? ""}/${runId}/${attempt}/${job}/${randomBytes(6).toString("hex")}`
        : `local:${process.pid}-${Date.now()}`;
      this.state.save(RUN_STATE_KEY, id);
    }
    this.#runId = id;
    return {
      runId: id,
      ...(runId
        ? {
            lineage: {
              key: `github:${repository ?? ""}/${runId}/${job}`,
              attempt: Number(attempt),
            },
          }
        : {}),
      holder: runId
        ? `workflow "${env.GITHUB_WORKFLOW ?? "?"}" run ${runId} attempt ${attempt}${repository ? ` in ${repository}` : ""}${env.GITHUB_ACTOR ? ` by ${env.GITHUB_ACTOR}` : ""}`
        : `a local run (pid ${process.pid})`,
      runUrl:
        runId && repository
          ? `${env.GITHUB_SERVER_URL ?? "https://github.com"}/${repository}/actions/runs/${runId}`
          : undefined,
      commitSha: env.GITHUB_SHA,
      repositoryUrl: repository
        ? `${env.GITHUB_SERVER_URL ?? "https://github.com"}/${repository}`
        : undefined,
    };
  }

  async credentialSource(inputs: Inputs): Promise<CredentialSource> {
    const { auth } = inputs;
    if (auth.creds) {
      return {
        kind: "secret",
        tenantId: auth.creds.tenantId,
        clientId: auth.creds.clientId,
        clientSecret: auth.creds.clientSecret,
      };
    }
    if (auth.clientId && auth.tenantId) {
      if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL) {
        throw new Error(
          "`client-id` and `tenant-id` ask for OIDC, but the job cannot request an ID token: add `permissions: id-token: write` to the workflow or job.",
        );
      }
      const audience = federationAudience(auth);
      return {
        kind: "federated",
        tenantId: auth.tenantId,
        clientId: auth.clientId,
        audience,
        getAssertion: () => core.getIDToken(audience),
      };
    }
    return { kind: "default" };
  }
}
