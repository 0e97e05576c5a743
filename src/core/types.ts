/**
 * The vocabulary shared by every layer: validated inputs, traffic, checks and the deployment report.
 * Pure types; no I/O.
 */
import type { CandidateDiagnostics } from "./diagnostics/types.ts";
import type { PlannedChange, RevisionInputs } from "./revision/model.ts";
import type { GateName, InconclusivePolicy, JudgeSettings, StepGates } from "./judge/types.ts";

export type ActionName = "deploy" | "promote" | "reject" | "rollback" | "status" | "insights";

export type CloudName = "AzureCloud" | "AzureUSGovernment" | "AzureChinaCloud" | "Custom";

/** Service principal JSON as azure/login takes it in `creds`. */
export interface ServicePrincipalCreds {
  clientId: string;
  clientSecret: string;
  tenantId: string;
  subscriptionId?: string;
}

export interface AuthInputs {
  clientId?: string;
  tenantId?: string;
  creds?: ServicePrincipalCreds;
  /** Audience of the OIDC token for `clientId`; undefined means the cloud's default. */
  audience?: string;
  cloud: CloudName;
  /** Required for Custom; overrides the cloud's ARM endpoint otherwise. */
  armEndpoint?: string;
  /** Required for Custom; overrides the cloud's authority host otherwise. */
  authorityHost?: string;
}

/** An HTTP status matcher: a list of single codes and inclusive ranges. */
export interface StatusRange {
  min: number;
  max: number;
}

export interface SmokeCheck {
  /** Name shown in logs and the summary (defaults to `METHOD path`). */
  name: string;
  /** Path and query, starting with `/`. */
  path: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Accepted statuses; default 200-399. */
  expectStatus: StatusRange[];
  bodyContains?: string;
  bodyRegex?: string;
  /** Dot/bracket path into a JSON body (e.g. `status`, `items[0].name`) and the value it must equal. */
  json?: { path: string; equals: string | number | boolean | null };
  /** Latency budget for one request. */
  maxLatencyMs?: number;
}

/** A builder that can be asked for by name. */
export type BuilderName = "docker" | "podman" | "buildah" | "acr";
/** `auto` picks the first local builder that works, else `acr` for an Azure Container Registry. */
export type BuilderChoice = BuilderName | "auto";
export const BUILDER_CHOICES: readonly BuilderChoice[] = [
  "auto",
  "docker",
  "podman",
  "buildah",
  "acr",
];

/**
 * How to log in to the registry before building (a private base image may live there) and pushing.
 * - `password`: a user name and password or token (any registry).
 * - `entra`: an Azure Container Registry without admin user: the Azure access token is exchanged
 *   for an ACR refresh token, used with the all-zero user name.
 * - `none`: no login (the machine is already logged in, or the registry takes anonymous pushes).
 */
export type RegistryAuth =
  { kind: "password"; username: string; password: string } | { kind: "entra" } | { kind: "none" };

/** What to build and where to push it, when a deploy starts from source. */
export interface BuildInputs {
  /** Build context folder. */
  context: string;
  /** Dockerfile path (by default `Dockerfile` inside the context). */
  dockerfile: string;
  /** `--build-arg` values, in the order given. */
  buildArgs: Record<string, string>;
  /** Registry host, with a port when not 443 (e.g. `myacr.azurecr.io`). */
  registry: string;
  /** Repository inside the registry (e.g. `team/web`). */
  imageName: string;
  tag: string;
  builder: BuilderChoice;
  auth: RegistryAuth;
  /** Repository URL, for the `org.opencontainers.image.source` label. */
  source?: string;
  /** Commit the image is built from, for the `org.opencontainers.image.revision` label. */
  revision?: string;
}

/** One request the side-by-side judge sends to both revisions. */
export interface SideBySideRequest {
  name: string;
  /** Path and query, starting with `/`. */
  path: string;
  method: "GET" | "HEAD";
  headers: Record<string, string>;
}

/** The gates that judge each traffic step, when `gates` names any. */
export interface GateInputs {
  gates: GateName[];
  inconclusive: InconclusivePolicy;
  /** How much longer a bake may run while a gate lacks data. */
  maxExtensionMs: number;
  /** The whole rollout's budget of false alarms (0.01 = 1%). */
  falseAlarmRate: number;
  judge: JudgeSettings;
  /** Production gates: how long after a window ends its data are taken as complete. */
  ingestionAllowanceMs: number;
  sideBySide: {
    requests: SideBySideRequest[];
    /** Requests per second to each revision. */
    ratePerSecond: number;
    /** Most requests to each revision per step. */
    budget: number;
    /** Responses of each revision dropped at the start of a step. */
    warmUp: number;
  };
}

/** Validated inputs of any action. Durations are milliseconds. */
export interface Inputs {
  action: ActionName;
  subscriptionId: string;
  resourceGroup: string;
  containerApp: string;
  image?: string;
  /** Set when the image is built from source before the deploy. */
  build?: BuildInputs;
  /** Managed identity the app pulls the built image with: `system` or a user-assigned resource id. */
  registryIdentity?: string;
  containerName?: string;
  /** What the new revision changes beyond its image; undefined: nothing. */
  revision?: RevisionInputs;
  /** Application-scope changes that alter what the running revisions use are allowed. */
  allowApplicationChanges: boolean;
  /** Explicit suffix; undefined means derive it from the commit. */
  revisionSuffix?: string;
  candidateLabel: string;
  productionLabel: string;
  previousLabel: string;
  /** Ascending percentages, each 1-100, ending at 100. */
  trafficSteps: number[];
  stepWaitMs: number;
  /** From `smoke-checks`, or the single GET of `smoke-path`. */
  smokeChecks: SmokeCheck[];
  smokeTimeoutMs: number;
  /** Gap between check rounds while a step bakes. */
  checkIntervalMs: number;
  /** Set when `gates` names any (deploy and promote). */
  gates?: GateInputs;
  readinessTimeoutMs: number;
  /** Console lines per container (and system events) shown of a failed candidate; 0: none. */
  diagnosticsLines: number;
  /** How long collecting a failed candidate's diagnostics may take; 0: not collected. */
  diagnosticsTimeoutMs: number;
  deactivatePrevious: boolean;
  scaleDownDelayMs: number;
  keepFailedRevision: boolean;
  auth: AuthInputs;
  dryRun: boolean;
  /** false: stop once the checks pass (at holdAt, or 0%) and wait for promote or reject. */
  autoPromote: boolean;
  /** Candidate weight while a deploy is held. */
  holdAt?: number;
  /** Full revision name to roll back to. */
  rollbackTo?: string;
  /** Rollback without checking the revision first. */
  skipChecks: boolean;
  /** Token for GitHub Deployments; undefined or empty turns them off. */
  githubToken?: string;
  /** GitHub environment the tool's deployments are recorded in (and read from); default the app's name. */
  deploymentEnvironment?: string;
  /** For `action: insights`: the apps whose history is read, and the window in ms. */
  insights?: { apps: string[]; windowMs: number };
}

export interface InputError {
  /** The input's name as the user writes it (kebab-case, e.g. `traffic-steps`). */
  input: string;
  message: string;
}

/** One entry of `configuration.ingress.traffic`, always pinned to a revision name. */
export interface TrafficWeight {
  revisionName: string;
  weight: number;
  label?: string;
}

export interface CheckResult {
  check: string;
  url: string;
  ok: boolean;
  status?: number;
  latencyMs?: number;
  /** Why it failed, in words (e.g. `status 500 not in 200-399`). */
  failure?: string;
  /** A failed check's request method, and what its answer said: */
  method?: string;
  /** the `x-ms-*` and request-id headers, */
  headers?: Record<string, string>;
  /** and the first bytes of the body. */
  bodyPrefix?: string;
}

export interface CheckRound {
  ok: boolean;
  results: CheckResult[];
}

export type DeployResult =
  "promoted" | "rolled-back" | "failed-before-traffic" | "held" | "unchanged";

export interface StepRecord {
  /** 1-based position in the plan. */
  index: number;
  /** Candidate weight at this step. */
  weight: number;
  traffic: TrafficWeight[];
  startedAt: number;
  durationMs: number;
  checksPassed: number;
  checksRun: number;
  ok: boolean;
  failure?: string;
  /** The round of checks that failed the step, when checks failed it. */
  failedRound?: CheckRound;
  /** What the gates concluded, when `gates` are on. */
  gates?: StepGates;
}

export interface PhaseTiming {
  phase: string;
  /** When the phase began (epoch ms). */
  startedAt?: number;
  durationMs: number;
}

/** Everything the summary and the outputs are made from. */
export interface DeploymentReport {
  action: ActionName;
  app: string;
  resourceGroup: string;
  image?: string;
  candidate?: string;
  previous?: string;
  result: DeployResult | "failed";
  /** Why the run ended as it did, in one sentence. */
  reason: string;
  /** Azure error code when an Azure call caused the failure. */
  errorCode?: string;
  /** What the operator should do next, when something failed. */
  nextSteps?: string;
  initialTraffic: TrafficWeight[];
  finalTraffic: TrafficWeight[];
  smoke?: CheckRound;
  steps: StepRecord[];
  phases: PhaseTiming[];
  labelUrl?: string;
  appUrl?: string;
  dryRun: boolean;
  /** Planned traffic arrays, one per step, for a dry run. */
  plan?: TrafficWeight[][];
  /** What the failed candidate said about itself, collected before it was deactivated. */
  diagnostics?: CandidateDiagnostics;
  /** Every change the deploy makes (or would make), revision scope and application scope. */
  changes?: PlannedChange[];
  /** Application-scope changes that reach every revision, blue included. */
  warnings?: string[];
  /** Secrets the deploy added to the app; they stay after a restore. */
  addedSecrets?: string[];
  /** Application-scope changes a restore could not put back, and why. */
  notRestored?: string[];
}
