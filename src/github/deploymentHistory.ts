/**
 * The deploy history `action: insights` reads on GitHub: the deployments this tool recorded (its
 * `task` and a payload it can read), and the commits each promotion released, from the compare
 * of two commits.
 */
import { context, getOctokit } from "@actions/github";
import type { Rollout, SourcedRecord } from "../core/insights/history.ts";
import type { ReleasedCommit } from "../core/insights/keys.ts";
import { RECORD_TOOL, parseRecord } from "../core/insights/record.ts";
import type { AppRef, RolloutHistory } from "../core/insights/source.ts";
import type { Inputs } from "../core/types.ts";
import { DEPLOYMENT_TASK } from "./deployments.ts";

type Octokit = ReturnType<typeof getOctokit>;

/** A compare lists at most this many commits per page. */
const PER_PAGE = 100;

export class GitHubDeploymentHistory implements RolloutHistory {
  readonly description: string;
  readonly #octokit: Octokit;
  readonly #owner: string;
  readonly #repo: string;
  /** The environment of each app's deployments. */
  readonly #environmentOf: (app: string) => string;

  private constructor(
    octokit: Octokit,
    repository: { owner: string; repo: string },
    environmentOf: (app: string) => string,
    description: string,
  ) {
    this.#octokit = octokit;
    this.#owner = repository.owner;
    this.#repo = repository.repo;
    this.#environmentOf = environmentOf;
    this.description = description;
  }

  /** The workflow's repository, through GITHUB_API_URL, with the `github-token` input. */
  static fromEnvironment(inputs: Inputs): GitHubDeploymentHistory {
    if (!inputs.githubToken) {
      throw new Error(
        "github-token is empty: insights reads the GitHub deployments of the repository, which needs a token with deployments: read and contents: read.",
      );
    }
    let repository: { owner: string; repo: string };
    try {
      repository = context.repo;
    } catch {
      throw new Error("GITHUB_REPOSITORY is not set: run insights in a GitHub workflow.");
    }
    const environment = inputs.deploymentEnvironment;
    const where = environment
      ? `the environment "${environment}"`
      : "the environment of each app (its name)";
    return new GitHubDeploymentHistory(
      getOctokit(inputs.githubToken, { baseUrl: context.apiUrl, userAgent: RECORD_TOOL }),
      repository,
      (app) => environment ?? app,
      `the GitHub deployments of ${repository.owner}/${repository.repo} in ${where}`,
    );
  }

  async records(apps: readonly AppRef[], since: number): Promise<SourcedRecord[]> {
    const wanted = new Set(apps.map((a) => `${a.resourceGroup.toLowerCase()}/${a.app}`));
    const environments = [...new Set(apps.map((a) => this.#environmentOf(a.app)))];
    const found: SourcedRecord[] = [];
    for (const environment of environments) {
      const pages = this.#octokit.paginate.iterator(this.#octokit.rest.repos.listDeployments, {
        owner: this.#owner,
        repo: this.#repo,
        environment,
        task: DEPLOYMENT_TASK,
        per_page: PER_PAGE,
      });
      for await (const page of pages) {
        for (const deployment of page.data) {
          const record = parseRecord(deployment.payload);
          if (!record || !wanted.has(`${record.resourceGroup.toLowerCase()}/${record.app}`)) {
            continue;
          }
          if (Date.parse(record.startedAt) < since) continue;
          found.push({
            ...record,
            id: String(deployment.id),
            url: record.runUrl ?? deployment.url,
          });
        }
        // Newest first, and each created when its run ended: past `since`, only older ones follow.
        const last = page.data.at(-1);
        if (!last || Date.parse(last.created_at) < since) break;
      }
    }
    return found;
  }

  async commitsBetween(base: Rollout, head: Rollout): Promise<ReleasedCommit[]> {
    const commits: ReleasedCommit[] = [];
    for (let page = 1; ; page++) {
      const compared = await this.#octokit.rest.repos.compareCommitsWithBasehead({
        owner: this.#owner,
        repo: this.#repo,
        basehead: `${base.commit}...${head.commit}`,
        per_page: PER_PAGE,
        page,
      });
      for (const commit of compared.data.commits) {
        const date = commit.commit.committer?.date ?? commit.commit.author?.date;
        if (date) commits.push({ sha: commit.sha, committedAt: Date.parse(date) });
      }
      if (compared.data.commits.length < PER_PAGE) return commits;
    }
  }
}
