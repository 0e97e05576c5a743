import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as task from "azure-pipelines-task-lib/task.js";
import type { CredentialSource } from "../azure/credentials.ts";
import { SERVICE_CONNECTION_INPUT } from "../core/inputs/docs.ts";
import { INPUTS, taskInputName } from "../core/inputs/schema.ts";
import { spellInput, spellInputsIn } from "../core/inputs/spelling.ts";
import type { RunContext, StateStore } from "../core/ports.ts";
import type { Inputs } from "../core/types.ts";
import type { Host } from "./host.ts";

/** Authorization schemes of an AzureRM service connection, as the agent reports them. */
const SCHEMES = {
  workloadIdentityFederation: "WorkloadIdentityFederation",
  servicePrincipal: "ServicePrincipal",
  managedServiceIdentity: "ManagedServiceIdentity",
} as const;

/** The `environment` of an AzureRM service connection, as the schema's `environment` input names it. */
const CLOUDS: Record<string, string> = {
  azurecloud: "AzureCloud",
  azureusgovernment: "AzureUSGovernment",
  azurechinacloud: "AzureChinaCloud",
  // Azure Stack Hub has its own endpoints, which the connection carries.
  azurestack: "Custom",
};

/**
 * The Azure Pipelines agent, through azure-pipelines-task-lib.
 *
 * Inputs keep one shape on both platforms: the engine asks for schema (kebab-case) names, and this
 * host reads the task's camelCase inputs, except where the service connection (`azureSubscription`)
 * stands in for what a GitHub workflow passes as inputs:
 *
 * - `subscription-id`: the task's `subscriptionId`, else the connection's subscription;
 * - `environment`: the connection's `environment`, where `AzureStack` becomes `Custom`;
 * - `arm-endpoint`: the connection's URL;
 * - `authority-host`: the connection's `activeDirectoryAuthority`, else `environmentAuthorityUrl`;
 * - `client-id`, `tenant-id`, `creds`: never given, for the connection's identity signs in.
 */
export class AzurePipelinesHost implements Host {
  readonly platform = "azure-pipelines" as const;
  readonly state: StateStore = {
    save: (key, value) => task.setTaskVariable(taskVariableName(key), value),
    load: (key) => task.getTaskVariable(taskVariableName(key)) || undefined,
  };
  readonly #outputs = new Map<string, string>();
  #connectionId: string | null | undefined;
  readonly #secrets: string[] = [];

  inputName(name: string): string {
    return spellInput(name, "task");
  }

  getInput(name: string): string | undefined {
    switch (name) {
      case "subscription-id":
        return this.#taskInput(name) ?? this.#connectionData("subscriptionId");
      case "environment": {
        const environment = this.#connectionData("environment");
        return environment === undefined
          ? undefined
          : (CLOUDS[environment.toLowerCase()] ?? environment);
      }
      case "arm-endpoint": {
        const id = this.#serviceConnectionId();
        return id === undefined ? undefined : task.getEndpointUrl(id, true) || undefined;
      }
      case "authority-host":
        return (
          this.#connectionData("activeDirectoryAuthority") ??
          this.#connectionData("environmentAuthorityUrl")
        );
    }
    const spec = INPUTS.find((input) => input.name === name);
    if (spec?.githubOnly) return undefined;
    const value = this.#taskInput(name);
    // A literal in the pipeline's YAML is not a secret variable, which the agent would mask.
    if (value !== undefined && spec?.secret) this.setSecret(value);
    return value;
  }

  /** Output variables take the camelCase of the schema's names, like the inputs. */
  setOutput(name: string, value: string): void {
    this.#outputs.set(name, value);
    task.setVariable(taskInputName(name), value, false, true);
  }

  setSecret(value: string): void {
    // The agent masks line by line and refuses multi-line secrets, so a PEM is masked per line;
    // its armour lines are public text.
    for (const line of value.split(/\r?\n/)) {
      const text = line.trim();
      if (text !== "" && !/^-----(BEGIN|END) [A-Z0-9 ]+-----$/.test(text)) {
        this.#secrets.push(text);
        task.setSecret(text);
      }
    }
  }

  secrets(): readonly string[] {
    return this.#secrets;
  }

  async writeSummary(markdown: string): Promise<void> {
    // The agent reads the file after the step ends, so it must outlive the process; a folder of its
    // own keeps the readable file name, which the summary tab shows, from clashing between steps.
    const folder = join(
      task.getVariable("Agent.TempDirectory") || tmpdir(),
      `aca-blue-green-${randomUUID()}`,
    );
    await mkdir(folder, { recursive: true });
    const file = join(folder, "Blue-green deployment.md");
    await writeFile(file, spellInputsIn(markdown, "task"), "utf8");
    task.uploadSummary(file);
  }

  setFailed(message: string): void {
    task.setResult(task.TaskResult.Failed, spellInputsIn(message, "task"));
  }

  /** Ends a successful main step with the result it published, for the run's timeline. */
  complete(exitCode: number): void {
    if (exitCode !== 0) return;
    const result = this.#outputs.get("result");
    const revision = this.#outputs.get("revision");
    task.setResult(
      task.TaskResult.Succeeded,
      result ? `Result: ${result}${revision ? ` (${revision})` : ""}` : "Done",
    );
  }

  debug(message: string): void {
    task.debug(spellInputsIn(message, "task"));
  }

  info(message: string): void {
    console.log(neutralise(spellInputsIn(message, "task")));
  }

  warning(message: string): void {
    task.logIssue(task.IssueType.Warning, spellInputsIn(message, "task"));
  }

  error(message: string): void {
    task.logIssue(task.IssueType.Error, spellInputsIn(message, "task"));
  }

  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    console.log(`##[group]${neutralise(spellInputsIn(title, "task"))}`);
    try {
      return await fn();
    } finally {
      console.log("##[endgroup]");
    }
  }

  context(): RunContext {
    const variable = (name: string) => task.getVariable(name) || undefined;
    const project = variable("System.TeamProject");
    const collection =
      variable("System.CollectionUri") ?? variable("System.TeamFoundationCollectionUri");
    const jobId = variable("System.JobId") ?? "";
    const commitSha = variable("Build.SourceVersion");
    const repositoryUrl = webUrl(variable("Build.Repository.Uri"));
    const releaseId = variable("Release.ReleaseId");
    if (releaseId) {
      const attempt = variable("Release.AttemptNumber") ?? "1";
      const by = variable("Release.RequestedFor");
      return {
        runId: `azure-pipelines:${project ?? ""}/release/${releaseId}/${attempt}/${jobId}`,
        holder: `release "${variable("Release.ReleaseName") ?? releaseId}" of "${variable("Release.DefinitionName") ?? "?"}", stage "${variable("Release.EnvironmentName") ?? "?"}" attempt ${attempt}${project ? ` in ${project}` : ""}${by ? ` by ${by}` : ""}`,
        runUrl: variable("Release.ReleaseWebURL"),
        commitSha,
        repositoryUrl,
      };
    }
    const buildId = variable("Build.BuildId");
    if (buildId) {
      const attempt = variable("System.JobAttempt") ?? "1";
      const by = variable("Build.RequestedFor");
      const jobName = variable("System.JobName") ?? variable("Agent.JobName") ?? jobId;
      return {
        runId: `azure-pipelines:${project ?? ""}/${buildId}/${jobId}/${attempt}`,
        lineage: {
          key: `azure-pipelines:${project ?? ""}/${buildId}/${jobName}`,
          attempt: Number(attempt),
        },
        holder: `pipeline "${variable("Build.DefinitionName") ?? "?"}" run ${variable("Build.BuildNumber") ?? buildId} attempt ${attempt}${project ? ` in ${project}` : ""}${by ? ` by ${by}` : ""}`,
        runUrl:
          collection && project
            ? `${collection.replace(/\/?$/, "/")}${encodeURIComponent(project)}/_build/results?buildId=${buildId}`
            : undefined,
        commitSha,
        repositoryUrl,
      };
    }
    return {
      runId: `local:${process.pid}-${Date.now()}`,
      holder: `a local run (pid ${process.pid})`,
      commitSha,
      repositoryUrl,
    };
  }

  async credentialSource(_inputs: Inputs): Promise<CredentialSource> {
    const id = this.#serviceConnectionId();
    if (id === undefined) {
      throw new Error(
        `${SERVICE_CONNECTION_INPUT} is required: give the Azure Resource Manager service connection to deploy with.`,
      );
    }
    const scheme = task.getEndpointAuthorizationScheme(id, true);
    const parameter = (key: string) =>
      task.getEndpointAuthorizationParameter(id, key, true) || undefined;
    const required = (key: string) => {
      const value = parameter(key);
      if (value === undefined) {
        throw new Error(
          `The service connection ${id} (${scheme}) has no ${key}; edit the service connection and save it again.`,
        );
      }
      return value;
    };
    switch (scheme?.toLowerCase()) {
      case SCHEMES.workloadIdentityFederation.toLowerCase(): {
        const tenantId = required("tenantid");
        const clientId = required("serviceprincipalid");
        const systemAccessToken = task.getEndpointAuthorizationParameter(
          "SystemVssConnection",
          "AccessToken",
          true,
        );
        if (!systemAccessToken) {
          throw new Error(
            `The service connection ${id} uses workload identity federation, which needs the job's access token, and the agent did not provide it; run the task in an Azure Pipelines job.`,
          );
        }
        this.setSecret(systemAccessToken);
        return {
          kind: "azure-pipelines",
          tenantId,
          clientId,
          serviceConnectionId: id,
          systemAccessToken,
        };
      }
      case SCHEMES.servicePrincipal.toLowerCase(): {
        const tenantId = required("tenantid");
        const clientId = required("serviceprincipalid");
        if (parameter("authenticationType") === "spnCertificate") {
          const certificatePem = required("servicePrincipalCertificate");
          this.setSecret(certificatePem);
          return { kind: "certificate", tenantId, clientId, certificatePem };
        }
        const clientSecret = required("serviceprincipalkey");
        this.setSecret(clientSecret);
        return { kind: "secret", tenantId, clientId, clientSecret };
      }
      case SCHEMES.managedServiceIdentity.toLowerCase(): {
        const clientId = this.#connectionData("msiclientId");
        return clientId ? { kind: "managed-identity", clientId } : { kind: "managed-identity" };
      }
      case undefined:
        throw new Error(
          `The service connection ${id} was not found, or this pipeline is not allowed to use it; give ${SERVICE_CONNECTION_INPUT} the name or ID of an Azure Resource Manager service connection and authorize it for the pipeline.`,
        );
      default:
        throw new Error(
          `The service connection ${id} uses the authentication scheme "${scheme}", which this task does not support; use an Azure Resource Manager service connection with ${Object.values(SCHEMES).join(", ")}.`,
        );
    }
  }

  #taskInput(name: string): string | undefined {
    return task.getInput(taskInputName(name)) || undefined;
  }

  #serviceConnectionId(): string | undefined {
    this.#connectionId ??= task.getInput(SERVICE_CONNECTION_INPUT)?.trim() || null;
    return this.#connectionId ?? undefined;
  }

  #connectionData(key: string): string | undefined {
    const id = this.#serviceConnectionId();
    return id === undefined ? undefined : task.getEndpointDataParameter(id, key, true) || undefined;
  }
}

/** Task variables travel as environment variables, whose names the agent keeps to `\w`. */
function taskVariableName(key: string): string {
  return key.replace(/\W/g, "_");
}

/** Azure Repos URIs carry the organization as a user name (`https://contoso@dev.azure.com/...`). */
function webUrl(uri: string | undefined): string | undefined {
  if (uri === undefined || !URL.canParse(uri)) return undefined;
  const url = new URL(uri);
  url.username = "";
  url.password = "";
  return url.href;
}

/**
 * The agent acts on any `##vso[...]` it finds in a log line, and formats lines that start with
 * `##[...]`; log lines carry text from Azure and from the app under test, which must not do either.
 */
function neutralise(message: string): string {
  return message.replace(/##(vso)?\[/g, "##\u200b$1[");
}
