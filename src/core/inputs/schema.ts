/**
 * The single source of truth for the inputs and outputs of the GitHub Action and the Azure
 * Pipelines task: action.yml, task.json and the README tables are generated from it, and input
 * validation reads its defaults and requirements from it.
 */
import { INCONCLUSIVE_POLICIES } from "../judge/types.ts";
import type { ActionName } from "../types.ts";

export const ACTIONS: readonly ActionName[] = [
  "deploy",
  "promote",
  "reject",
  "rollback",
  "status",
  "insights",
];
/** The actions that talk to Azure: all but `insights`, which reads the tool's own records. */
const AZURE_ACTIONS: ActionName[] = ["deploy", "promote", "reject", "rollback", "status"];
/** The actions that record a rollout (and `insights`, which reads the records). */
const RECORD_ACTIONS: ActionName[] = ["deploy", "promote", "reject", "rollback", "insights"];
/** The actions whose traffic steps the gates judge. */
const GATE_ACTIONS: ActionName[] = ["deploy", "promote"];

export type InputKind =
  "string" | "lines" | "boolean" | "enum" | "duration" | "percent-list" | "yaml" | "json" | "url";

export type InputGroup =
  "Target" | "Image" | "Revision" | "Checks" | "Gates" | "Traffic" | "Authentication" | "Advanced";

export interface InputSpec {
  /** Kebab-case, as written in a workflow's `with:`. */
  name: string;
  /** What a user reads in the marketplace and the README. */
  description: string;
  /** The description in the Azure Pipelines task, where it differs (its service connection). */
  taskDescription?: string;
  default?: string;
  /** Actions that cannot run without it. */
  requiredFor?: ActionName[];
  kind: InputKind;
  /** Accepted values of an `enum`. */
  options?: string[];
  group: InputGroup;
  /** Its value must be masked in logs. */
  secret?: boolean;
  /** Actions that read it; absent means all of them. */
  actions?: ActionName[];
  /** Not offered by the Azure Pipelines task, whose service connection replaces it. */
  githubOnly?: boolean;
}

export interface OutputSpec {
  name: string;
  description: string;
}

const DURATION_FORMAT = "a duration such as `30s`, `5m` or `1h`; a bare number is seconds";

export const INPUTS: readonly InputSpec[] = [
  {
    name: "action",
    description:
      "What to do: `deploy` a new revision progressively, `promote` a held deployment, `reject` it, `rollback` to the previous revision, show the app's `status`, or report the `insights` of its deploy history (the four DORA keys).",
    default: "deploy",
    kind: "enum",
    options: [...ACTIONS],
    group: "Target",
  },
  {
    name: "subscription-id",
    description:
      "ID (a GUID) of the Azure subscription that holds the container app. Default: `subscriptionId` in `creds`.",
    taskDescription:
      "ID (a GUID) of the Azure subscription that holds the container app. Default: the subscription of the service connection.",
    kind: "string",
    group: "Target",
    actions: AZURE_ACTIONS,
  },
  {
    name: "resource-group",
    description: "Resource group of the container app.",
    requiredFor: [...ACTIONS],
    kind: "string",
    group: "Target",
  },
  {
    name: "container-app",
    description:
      "Name of the existing container app, which needs HTTP ingress. Revisions are named `<container-app>--<suffix>`. For `action: insights`, one app or several, separated by commas or new lines.",
    requiredFor: [...ACTIONS],
    kind: "string",
    group: "Target",
  },
  {
    name: "window",
    description:
      "For `action: insights`: how far back to look, in days or weeks, such as `30d` or `4w` (at most 366 days). The trend compares it with the same span before.",
    default: "30d",
    kind: "string",
    group: "Target",
    actions: ["insights"],
  },
  {
    name: "image",
    description:
      "Container image of the new revision, such as `myregistry.azurecr.io/api:1.4.2`; a digest (`@sha256:...`) pins exactly what runs. Required for `deploy` unless `build-context` builds the image.",
    kind: "string",
    group: "Image",
    actions: ["deploy"],
  },
  {
    name: "container-name",
    description:
      "Container of the revision template that receives `image`. Default: the template's first container.",
    kind: "string",
    group: "Image",
    actions: ["deploy"],
  },
  {
    name: "revision-suffix",
    description:
      "Suffix of the new revision's name: lower-case letters, digits and hyphens, at most 54 characters together with the app name. Default: derived from the commit, so a rerun of the same commit reuses its revision.",
    kind: "string",
    group: "Image",
    actions: ["deploy"],
  },
  {
    name: "build-context",
    description:
      "Folder to build an image from before deploying. The image is pushed to `registry` and deployed by digest. Leave empty to deploy `image` as it is.",
    kind: "string",
    group: "Image",
    actions: ["deploy"],
  },
  {
    name: "dockerfile",
    description: "Path of the Dockerfile. Default: `Dockerfile` in `build-context`.",
    kind: "string",
    group: "Image",
    actions: ["deploy"],
  },
  {
    name: "build-args",
    description:
      "Build arguments, one `KEY=VALUE` a line. Not for secrets: they stay in the image's history.",
    kind: "string",
    group: "Image",
    actions: ["deploy"],
  },
  {
    name: "registry",
    description:
      "Registry to push the built image to, e.g. `myacr.azurecr.io`. Required with `build-context`.",
    kind: "string",
    group: "Image",
    actions: ["deploy"],
  },
  {
    name: "image-name",
    description: "Repository in the registry, e.g. `team/web`. Required with `build-context`.",
    kind: "string",
    group: "Image",
    actions: ["deploy"],
  },
  {
    name: "image-tag",
    description: "Tag of the built image. Default: the commit SHA.",
    kind: "string",
    group: "Image",
    actions: ["deploy"],
  },
  {
    name: "registry-username",
    description:
      "User name for the registry. Not needed for an Azure Container Registry: the Azure login is used (the identity needs AcrPush).",
    kind: "string",
    group: "Image",
    actions: ["deploy"],
  },
  {
    name: "registry-password",
    description: "Password or token for `registry-username`.",
    kind: "string",
    group: "Image",
    secret: true,
    actions: ["deploy"],
  },
  {
    name: "builder",
    description:
      "How to build: `docker`, `podman`, `buildah` (no daemon needed), `acr` (a remote build in the Azure Container Registry), or `auto`: the first local builder that works, else `acr` for an Azure Container Registry.",
    default: "auto",
    kind: "enum",
    options: ["auto", "docker", "podman", "buildah", "acr"],
    group: "Image",
    actions: ["deploy"],
  },
  {
    name: "registry-identity",
    description:
      "Managed identity the app pulls the built image with: `system`, or the resource ID of a user-assigned identity of the app. When the app has no entry for `registry`, the deploy adds one with this identity (it needs AcrPull on the registry); without it, a missing entry fails the deploy before any change.",
    kind: "string",
    group: "Image",
    actions: ["deploy"],
  },
  {
    name: "revision-template",
    description:
      "Path of a YAML file in the format `az containerapp update --yaml` reads: its `properties.template` becomes the new revision's template (the inputs below and `image` win over it). Its `properties.configuration` applies to the whole app, blue included, so it is refused unless `allow-application-changes` is `true`.",
    kind: "string",
    group: "Revision",
    actions: ["deploy"],
  },
  {
    name: "env-vars",
    description:
      "Environment variables of the new revision's container (the one `container-name` names), one a line: `KEY=VALUE`, `KEY=secretref:SECRET_NAME` for one of the app's secrets (or one `secrets` adds), or `-KEY` to remove a variable. Variables not named keep their current value.",
    kind: "lines",
    group: "Revision",
    actions: ["deploy"],
  },
  {
    name: "secrets",
    description:
      "Secrets the new revision needs, one a line: `NAME=VALUE` (pass the value from a pipeline secret) or `NAME=keyvaultref:<secret URL>,identityref:<system or identity resource ID>`. A new name is added in the write that creates the revision and stays after a restore. A new value for a secret the running revisions use changes blue too: it is refused unless `allow-application-changes` is `true`.",
    kind: "lines",
    group: "Revision",
    secret: true,
    actions: ["deploy"],
  },
  {
    name: "cpu",
    description:
      "CPU of the container in vCPU, e.g. `0.5`. On the Consumption profile the CPU and memory of all the revision's containers must add up to one of 0.25 vCPU / 0.5Gi, 0.5 / 1Gi, … 4 / 8Gi (memory twice the CPU); on a dedicated profile they must fit its size. Checked before any change.",
    kind: "string",
    group: "Revision",
    actions: ["deploy"],
  },
  {
    name: "memory",
    description: "Memory of the container in Gi, e.g. `1Gi` or `1.5Gi`; see `cpu`.",
    kind: "string",
    group: "Revision",
    actions: ["deploy"],
  },
  {
    name: "min-replicas",
    description:
      "Minimum replicas of the new revision (0-1000). With 2 or more, the revision counts as ready only once that many replicas run and are ready, so no traffic reaches a single cold replica.",
    kind: "string",
    group: "Revision",
    actions: ["deploy"],
  },
  {
    name: "max-replicas",
    description: "Maximum replicas of the new revision (1-1000).",
    kind: "string",
    group: "Revision",
    actions: ["deploy"],
  },
  {
    name: "command",
    description:
      'Command of the container, replacing the image\'s entrypoint: one item a line, or a YAML list such as `["/bin/sh", "-c"]`.',
    kind: "lines",
    group: "Revision",
    actions: ["deploy"],
  },
  {
    name: "args",
    description: "Arguments of the container's command: one item a line, or a YAML list.",
    kind: "lines",
    group: "Revision",
    actions: ["deploy"],
  },
  {
    name: "probes",
    description:
      "Health probes of the container as a YAML list, as the template holds them: each with `type` (`Liveness`, `Readiness` or `Startup`), `httpGet` (`path`, `port`) or `tcpSocket` (`port`), and optionally `initialDelaySeconds`, `periodSeconds`, `timeoutSeconds`, `failureThreshold`, `successThreshold`. Replaces the container's probes.",
    kind: "yaml",
    group: "Revision",
    actions: ["deploy"],
  },
  {
    name: "allow-application-changes",
    description:
      "`true` lets a deploy make application-scope changes that alter what the running revisions (blue) use: a new value for a secret they reference, or the `properties.configuration` of `revision-template`. They apply to every revision at once and are reported as warnings in the log and the summary. A restore after a failed check puts them back, but a changed secret value cannot be put back after the run was killed: values are never saved.",
    default: "false",
    kind: "boolean",
    group: "Revision",
    actions: ["deploy"],
  },
  {
    name: "candidate-label",
    description:
      "Traffic label of the new revision while it is tested; it is reachable at `https://<container-app>---<label>.<environment domain>`.",
    default: "green",
    kind: "string",
    group: "Traffic",
    actions: AZURE_ACTIONS,
  },
  {
    name: "production-label",
    description:
      "Traffic label of the revision serving production; it moves to the new revision when it is promoted.",
    default: "blue",
    kind: "string",
    group: "Traffic",
    actions: AZURE_ACTIONS,
  },
  {
    name: "previous-label",
    description:
      "Traffic label the replaced revision takes on promotion, so that it stays addressable as the target of `rollback`.",
    default: "previous",
    kind: "string",
    group: "Traffic",
    actions: AZURE_ACTIONS,
  },
  {
    name: "traffic-steps",
    description:
      "Percentages of traffic sent to the new revision, one step after another, as a comma-separated list rising to 100 such as `10,50,100`. The default `100` switches all traffic at once after the smoke checks pass.",
    default: "100",
    kind: "percent-list",
    group: "Traffic",
    actions: ["deploy", "rollback"],
  },
  {
    name: "auto-promote",
    description:
      "`false` stops the deploy once the checks pass (at 0%, or at `hold-at`) and records it in the app's tags, with `result` `held`; a later run with `action: promote` or `action: reject` finishes it.",
    default: "true",
    kind: "boolean",
    group: "Traffic",
    actions: ["deploy"],
  },
  {
    name: "hold-at",
    description:
      "With `auto-promote: false`: the percentage of traffic (1-99) the new revision keeps while the deploy is held, e.g. `10` for a canary that people look at before promoting.",
    kind: "string",
    group: "Traffic",
    actions: ["deploy"],
  },
  {
    name: "rollback-to",
    description:
      "For `action: rollback`: the revision to go back to (its full name or its suffix). Default: the previous production revision, from the last promotion recorded on the app or the `previous-label`.",
    kind: "string",
    group: "Traffic",
    actions: ["rollback"],
  },
  {
    name: "skip-checks",
    description:
      "For `action: rollback`: `true` skips the smoke checks of the revision rolled back to, for emergencies.",
    default: "false",
    kind: "boolean",
    group: "Checks",
    actions: ["rollback"],
  },
  {
    name: "step-wait",
    description: `How long each traffic step bakes, with the smoke checks repeating, before the next one: ${DURATION_FORMAT}.`,
    default: "60s",
    kind: "duration",
    group: "Traffic",
    actions: ["deploy", "promote", "rollback"],
  },
  {
    name: "smoke-checks",
    description:
      "Smoke checks as a YAML list. Each item has a `path` and optionally `name`, `method`, `headers`, `body`, `status` (a code, a range such as `200-299`, or a list; default `200-399`), `body-contains`, `body-regex`, `json` (`path` and `equals`) and `max-latency`. Replaces `smoke-path` when given.",
    kind: "yaml",
    group: "Checks",
    actions: ["deploy", "promote", "rollback"],
  },
  {
    name: "smoke-path",
    description:
      "Path of a single GET smoke check that expects a status of 200-399; used when `smoke-checks` is not given.",
    default: "/",
    kind: "string",
    group: "Checks",
    actions: ["deploy", "promote", "rollback"],
  },
  {
    name: "smoke-timeout",
    description: `How long the smoke checks may keep retrying on the new revision's label URL before the deployment is rolled back: ${DURATION_FORMAT}.`,
    default: "2m",
    kind: "duration",
    group: "Checks",
    actions: ["deploy", "promote", "rollback"],
  },
  {
    name: "check-interval",
    description: `Gap between two rounds of smoke checks, both while waiting for them to pass and while a traffic step bakes: ${DURATION_FORMAT}.`,
    default: "10s",
    kind: "duration",
    group: "Checks",
    actions: ["deploy", "promote", "rollback"],
  },
  {
    name: "gates",
    description:
      "Judges that decide each traffic step by how the new revision serves, besides the smoke checks; a comma-separated list of `side-by-side` (the same requests sent to the new and the stable revision during each bake, error rates and latencies compared), `production-errors` (the Azure Monitor `Requests` metric: the new revision's 5xx rate against `max-error-rate` and against the stable revision's) and `production-latency` (latencies of both revisions from `ContainerAppHTTPLogs`, which needs a diagnostic setting on the environment). A failing gate ends the step at once and rolls back. Empty: none. See docs/judge.md.",
    kind: "string",
    group: "Gates",
    actions: GATE_ACTIONS,
  },
  {
    name: "inconclusive",
    description:
      "What a step does when a gate still has too little data once `max-bake-extension` is used up: `fail` (roll back), `pass` (go on, with a warning) or `hold` (stop as a held deployment for `action: promote` or `action: reject`). Too little data is never taken for good.",
    default: "fail",
    kind: "enum",
    options: [...INCONCLUSIVE_POLICIES],
    group: "Gates",
    actions: GATE_ACTIONS,
  },
  {
    name: "max-bake-extension",
    description: `How much longer a step may bake while a gate has too little data before \`inconclusive\` decides: ${DURATION_FORMAT}. \`0s\` decides at the end of the bake.`,
    default: "5m",
    kind: "duration",
    group: "Gates",
    actions: GATE_ACTIONS,
  },
  {
    name: "false-alarm-rate",
    description:
      "The chance, over the whole rollout, that the gates fail a new revision that serves as well as the stable one, as a percentage such as `1%`. It is split over every look of every comparison of every step.",
    default: "1%",
    kind: "string",
    group: "Gates",
    actions: GATE_ACTIONS,
  },
  {
    name: "max-error-rate",
    description:
      "`production-errors`: the new revision fails when its 5xx rate is significantly above this percentage, such as `5%`.",
    default: "5%",
    kind: "string",
    group: "Gates",
    actions: GATE_ACTIONS,
  },
  {
    name: "error-rate-margin",
    description:
      "How much higher, in percentage points, the new revision's error rate must be than the stable revision's to fail a step (besides being significantly higher), such as `2%`.",
    default: "2%",
    kind: "string",
    group: "Gates",
    actions: GATE_ACTIONS,
  },
  {
    name: "latency-ratio",
    description:
      "How many times slower than the stable revision the new revision must be, significantly, to fail a step, such as `1.2`; a smaller slowdown never fails it.",
    default: "1.2",
    kind: "string",
    group: "Gates",
    actions: GATE_ACTIONS,
  },
  {
    name: "min-samples",
    description:
      "`side-by-side`: responses each revision needs in a step, after the warm-up, before its error rate and latency are compared.",
    default: "50",
    kind: "string",
    group: "Gates",
    actions: GATE_ACTIONS,
  },
  {
    name: "min-requests",
    description:
      "`production-errors` and `production-latency`: requests each revision needs in a step's window before it is compared.",
    default: "100",
    kind: "string",
    group: "Gates",
    actions: GATE_ACTIONS,
  },
  {
    name: "ingestion-allowance",
    description: `Production gates: how long after a window ends its metrics and logs are taken as complete when no later data of the stable revision says so sooner: ${DURATION_FORMAT}. Each step is longer by up to this wait.`,
    default: "5m",
    kind: "duration",
    group: "Gates",
    actions: GATE_ACTIONS,
  },
  {
    name: "side-by-side-requests",
    description:
      "`side-by-side`: the requests sent to both revisions, as a YAML list of `path` with optional `name`, `method` (`GET` or `HEAD`) and `headers`. Default: the GET and HEAD requests of the smoke checks.",
    kind: "yaml",
    group: "Gates",
    actions: GATE_ACTIONS,
  },
  {
    name: "side-by-side-rate",
    description: "`side-by-side`: requests per second sent to each revision while a step bakes.",
    default: "5",
    kind: "string",
    group: "Gates",
    actions: GATE_ACTIONS,
  },
  {
    name: "side-by-side-budget",
    description:
      "`side-by-side`: the most requests sent to each revision in one step, its extension included.",
    default: "600",
    kind: "string",
    group: "Gates",
    actions: GATE_ACTIONS,
  },
  {
    name: "side-by-side-warm-up",
    description:
      "`side-by-side`: responses of each revision left out at the start of every step, while a new replica warms up.",
    default: "5",
    kind: "string",
    group: "Gates",
    actions: GATE_ACTIONS,
  },
  {
    name: "readiness-timeout",
    description: `How long a revision may take to become provisioned, running and healthy before the run gives up: ${DURATION_FORMAT}.`,
    default: "10m",
    kind: "duration",
    group: "Advanced",
    actions: ["deploy", "promote", "rollback"],
  },
  {
    name: "deactivate-previous",
    description:
      "`true` deactivates the replaced revision after promotion (once `scale-down-delay` has passed); `false` keeps it running so that a rollback is instant.",
    default: "true",
    kind: "boolean",
    group: "Traffic",
    actions: ["deploy", "promote"],
  },
  {
    name: "scale-down-delay",
    description: `How long the replaced revision keeps running after promotion, so that requests in flight can finish, before it is deactivated: ${DURATION_FORMAT}.`,
    default: "0s",
    kind: "duration",
    group: "Traffic",
    actions: ["deploy", "promote"],
  },
  {
    name: "keep-failed-revision",
    description:
      "`true` leaves a rejected or failed new revision active, at 0% traffic and reachable on its label URL, for debugging; `false` deactivates it.",
    default: "false",
    kind: "boolean",
    group: "Advanced",
    actions: ["deploy", "promote", "reject"],
  },
  {
    name: "diagnostics-lines",
    description:
      "When the new revision fails (it crashes, never gets ready, fails a check): how many of the last lines each of its containers printed, and of the platform's events about it, the log, the summary and the `diagnostics` output show, from `0` (its state and replicas only) to `300` (the most the log stream serves).",
    default: "100",
    kind: "string",
    group: "Advanced",
    actions: ["deploy", "promote", "rollback"],
  },
  {
    name: "diagnostics-timeout",
    description: `How long collecting the failed revision's diagnostics may take (at most \`5m\`; \`0s\` collects none), once the previous traffic is back and before the revision is deactivated: ${DURATION_FORMAT}.`,
    default: "30s",
    kind: "duration",
    group: "Advanced",
    actions: ["deploy", "promote", "rollback"],
  },
  {
    name: "client-id",
    description:
      "Client ID (a GUID) of an app registration or user-assigned managed identity that trusts this workflow through a federated credential (OpenID Connect; the job needs `id-token: write`). Needs `tenant-id`. Without `client-id` and `creds`, the ambient Azure credential is used.",
    kind: "string",
    group: "Authentication",
    githubOnly: true,
    actions: AZURE_ACTIONS,
  },
  {
    name: "tenant-id",
    description: "Microsoft Entra tenant ID (a GUID) of `client-id`.",
    kind: "string",
    group: "Authentication",
    githubOnly: true,
    actions: AZURE_ACTIONS,
  },
  {
    name: "audience",
    description:
      "Audience of the GitHub OIDC token that `client-id` signs in with; it must match the audience of the federated credential. Default: the cloud's, `api://AzureADTokenExchange` (`api://AzureADTokenExchangeUSGov` for `AzureUSGovernment`, `api://AzureADTokenExchangeChina` for `AzureChinaCloud`).",
    kind: "string",
    group: "Authentication",
    githubOnly: true,
  },
  {
    name: "creds",
    description:
      "Service principal JSON as `azure/login` takes it: `clientId`, `clientSecret`, `tenantId` and optionally `subscriptionId`. Pass it from a secret; use it instead of `client-id`.",
    kind: "json",
    group: "Authentication",
    secret: true,
    githubOnly: true,
    actions: AZURE_ACTIONS,
  },
  {
    name: "environment",
    description:
      "Azure cloud: `AzureCloud`, `AzureUSGovernment`, `AzureChinaCloud`, or `Custom` together with `arm-endpoint` and `authority-host`.",
    default: "AzureCloud",
    kind: "enum",
    options: ["AzureCloud", "AzureUSGovernment", "AzureChinaCloud", "Custom"],
    group: "Authentication",
    githubOnly: true,
    actions: AZURE_ACTIONS,
  },
  {
    name: "arm-endpoint",
    description:
      "Azure Resource Manager endpoint, an https URL. Required for `environment: Custom`; overrides the cloud's endpoint otherwise.",
    kind: "url",
    group: "Authentication",
    githubOnly: true,
    actions: AZURE_ACTIONS,
  },
  {
    name: "authority-host",
    description:
      "Microsoft Entra authority host, an https URL. Required for `environment: Custom`; overrides the cloud's authority otherwise.",
    kind: "url",
    group: "Authentication",
    githubOnly: true,
    actions: AZURE_ACTIONS,
  },
  {
    name: "github-token",
    description:
      "Token for GitHub Deployments (one deployment per rollout, with its record, its status and the app URL). Needs `deployments: write`, and for `action: insights` `deployments: read` and `contents: read`; an empty value turns GitHub Deployments off.",
    default: "${{ github.token }}",
    kind: "string",
    group: "Advanced",
    secret: true,
    githubOnly: true,
  },
  {
    name: "deployment-environment",
    description:
      "GitHub environment the rollout's deployment is recorded in, and that `action: insights` reads; give the job's `environment:` so that both are one. Default: the name of the container app.",
    kind: "string",
    group: "Advanced",
    githubOnly: true,
    actions: RECORD_ACTIONS,
  },
  {
    name: "dry-run",
    description:
      "`true` validates the inputs, reads the app and reports the planned changes — the new revision's, the application scope's and the traffic's — without writing anything to Azure.",
    default: "false",
    kind: "boolean",
    group: "Advanced",
    actions: AZURE_ACTIONS,
  },
];

export const OUTPUTS: readonly OutputSpec[] = [
  {
    name: "result",
    description:
      "How the run ended: `promoted`, `rolled-back`, `failed-before-traffic` (nothing changed for users), `held` (stopped before promotion, waiting for `promote` or `reject`), `unchanged` (nothing to do, or a dry run), or `failed`.",
  },
  { name: "revision", description: "Name of the new (candidate) revision, `<app>--<suffix>`." },
  {
    name: "previous-revision",
    description: "Name of the revision that served production before the run.",
  },
  {
    name: "label-url",
    description: "URL of the candidate revision's label, which reaches it whatever its weight.",
  },
  { name: "app-url", description: "URL of the container app's ingress (its production address)." },
  {
    name: "traffic",
    description:
      'Traffic at the end of the run, as the JSON array of `{"revisionName", "weight", "label"}` entries.',
  },
  { name: "image", description: "Image the candidate revision runs." },
  {
    name: "diagnostics",
    description:
      "When the candidate failed: what it said about itself as JSON — its state, its replicas' containers and restart counts, the last lines they printed and the platform's events about it (from the live streams, or from Log Analytics where they had none), what Log Analytics held of them, the failed check's request — with secrets masked; empty otherwise. See docs/diagnostics.md.",
  },
  {
    name: "gates",
    description:
      "The verdicts of `gates` as JSON: the overall verdict and, for each step, every comparison with its samples, rates, percentiles, p-value, threshold, verdict and reason.",
  },
  {
    name: "status",
    description:
      "For `action: status`: the app's revisions, traffic, labels, lease and held deployment as JSON.",
  },
  {
    name: "insights",
    description:
      "For `action: insights`: the four keys of the window, with their bands, trend and the rollouts behind each, as JSON.",
  },
];

/** Kebab-case input name to the camelCase name of the Azure Pipelines task (`traffic-steps` → `trafficSteps`). */
export function taskInputName(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

export function inputSpec(name: string): InputSpec {
  const spec = INPUTS.find((input) => input.name === name);
  if (!spec) throw new Error(`No input named "${name}" in the schema`);
  return spec;
}

/** Required by every action: the only inputs marked `required` in action.yml. */
export function isAlwaysRequired(spec: InputSpec): boolean {
  return ACTIONS.every((action) => spec.requiredFor?.includes(action) ?? false);
}
