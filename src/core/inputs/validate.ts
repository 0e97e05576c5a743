/**
 * Turns the raw text of every input into validated Inputs, or into the complete list of what is
 * wrong: each error names the input, says what is wrong and what is accepted. No secret value is
 * ever repeated in an error.
 */
import { defaultSmokeCheck, parseSmokeChecks, smokePathProblem } from "../checks/spec.ts";
import { parseDuration } from "../duration.ts";
import type {
  ActionName,
  AuthInputs,
  CloudName,
  InputError,
  Inputs,
  ServicePrincipalCreds,
  SmokeCheck,
} from "../types.ts";
import {
  containerAppNameProblem,
  containerNameProblem,
  imageReferenceProblem,
  isGuid,
  labelProblem,
  resourceGroupProblem,
  revisionSuffixProblem,
} from "./names.ts";
import { readBuildInputs } from "./build.ts";
import { readRevisionInputs, type FileReader } from "./revision.ts";
import { readGateInputs } from "./gates.ts";
import { MAX_WINDOW_DAYS, parseWindow } from "../insights/window.ts";
import { ACTIONS, INPUTS, inputSpec, isAlwaysRequired } from "./schema.ts";

export interface ReadInputsContext {
  /** The subscription of the Azure Pipelines service connection, used when subscription-id is not given. */
  subscriptionId?: string;
  /** Commit being deployed: the default image tag of a build. */
  commitSha?: string;
  /** Repository URL, for the image's source label. */
  repositoryUrl?: string;
  /** Reads `revision-template` (relative to the job's working directory). */
  readFile?: FileReader;
}

export type ReadInputsResult = { ok: true; inputs: Inputs } | { ok: false; errors: InputError[] };

/** Longer waits overflow Node's timers (about 24.8 days) long before they make sense here. */
export const MAX_DURATION_MS = 24 * 3_600_000;
/** A failed run keeps its candidate running this long at most, to read its logs. */
const MAX_DIAGNOSTICS_MS = 5 * 60_000;
/** The log stream serves at most 300 lines (`az containerapp logs show --tail`). */
const MAX_DIAGNOSTICS_LINES = 300;

const DURATION_HELP =
  "use a number with a unit such as 30s, 5m, 1h or 250ms (a bare number is seconds)";
const STEPS_EXAMPLE = '(e.g. "10,50,100")';
const USER_ASSIGNED_IDENTITY =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i;
const IMAGE_FORM =
  "expected registry/repository[:tag][@sha256:<64 hex digits>], e.g. myregistry.azurecr.io/api:1.4.2";

/**
 * `get` returns the raw text of an input by its kebab-case name; undefined or blank means not
 * given, and the schema's default applies.
 */
export function readInputs(
  get: (name: string) => string | undefined,
  context: ReadInputsContext = {},
): ReadInputsResult {
  const errors: InputError[] = [];
  const fail = (input: string, message: string) =>
    errors.push({ input, message: `${input}: ${message}` });
  const given = (name: string): string | undefined => {
    const value = get(name);
    return value === undefined || value.trim() === "" ? undefined : value;
  };
  const text = (name: string): string | undefined => given(name)?.trim() ?? inputSpec(name).default;
  const action = readEnum<ActionName>("action", ACTIONS, text, fail);
  const required = (name: string, hint: string): string | undefined => {
    const spec = inputSpec(name);
    const value = text(name);
    if (value !== undefined) return value;
    if (isAlwaysRequired(spec)) fail(name, `is required; ${hint}`);
    else if (action && spec.requiredFor?.includes(action)) {
      fail(name, `is required for action "${action}"; ${hint}`);
    }
    return undefined;
  };
  const reader: Reader = { get, given, text, fail, required, action, errors };

  const target = readTarget(reader);
  const image = readImage(reader, context, target.containerApp);
  const traffic = readTraffic(reader, target.containerApp);
  const checks = readChecks(reader);
  const gates = readGates(reader, traffic, checks);
  const advanced = readAdvanced(reader);
  const auth = readAuth(given, text, fail);
  const subscriptionId = readSubscription(reader, auth, context);

  if (errors.length > 0 || action === undefined || auth === undefined) {
    return { ok: false, errors: orderBySchema(errors) };
  }
  return {
    ok: true,
    inputs: {
      action,
      subscriptionId: subscriptionId ?? "",
      resourceGroup: target.resourceGroup as string,
      containerApp: target.containerApp as string,
      ...image.inputs,
      ...traffic,
      ...checks,
      ...(gates !== undefined && { gates }),
      ...advanced,
      auth,
      ...(target.deploymentEnvironment !== undefined && {
        deploymentEnvironment: target.deploymentEnvironment,
      }),
      ...(action === "insights" && {
        insights: { apps: target.apps, windowMs: target.windowMs as number },
      }),
    },
  };
}

/** What every group reader reads with, and where it says what is wrong. */
interface Reader {
  get: (name: string) => string | undefined;
  /** The raw text, or undefined when blank. */
  given: (name: string) => string | undefined;
  /** The trimmed text, else the schema's default. */
  text: Text;
  fail: Fail;
  /** The text of an input the action requires; fails (naming the action) when it is missing. */
  required: (name: string, hint: string) => string | undefined;
  action: ActionName | undefined;
  errors: InputError[];
}

/** Group "Target": which app (or apps, for insights), and where its history goes. */
function readTarget({ text, fail, required, action }: Reader) {
  const resourceGroup = required("resource-group", "give the resource group of the container app");
  if (resourceGroup !== undefined) {
    const problem = resourceGroupProblem(resourceGroup);
    if (problem) {
      fail(
        "resource-group",
        `"${resourceGroup}" ${problem} (1-90 characters, not ending with '.')`,
      );
    }
  }

  // Left undefined when invalid, so that the length limits that involve it are not misreported.
  const appsText = required("container-app", "give the name of the container app");
  // Insights reads the history of one app or several; every other action changes one app.
  const apps =
    appsText === undefined
      ? []
      : action === "insights"
        ? [...new Set(appsText.split(/[,\n]/).map((name) => name.trim()))].filter(Boolean)
        : [appsText];
  if (appsText !== undefined && apps.length === 0) {
    fail("container-app", "is required; give the name of the container app");
  }
  let appsValid = apps.length > 0;
  for (const name of apps) {
    const problem = containerAppNameProblem(name);
    if (problem) {
      fail(
        "container-app",
        `"${name}" ${problem} (2-32 lower-case letters, digits and '-', starting with a letter, ending with a letter or digit, without '--')`,
      );
      appsValid = false;
    }
  }
  const containerApp = appsValid ? apps[0] : undefined;

  let windowMs: number | undefined;
  const windowText = text("window") ?? "";
  if (action === "insights") {
    windowMs = parseWindow(windowText);
    if (windowMs === undefined) {
      fail(
        "window",
        `"${windowText}" is not a window of days or weeks; use a whole number with d or w, from 1d to ${MAX_WINDOW_DAYS}d (e.g. "30d" or "4w")`,
      );
    }
  }
  const deploymentEnvironment = text("deployment-environment");
  if (
    deploymentEnvironment !== undefined &&
    (deploymentEnvironment.length > 255 || /[\r\n\t]/.test(deploymentEnvironment))
  ) {
    fail(
      "deployment-environment",
      `is not a GitHub environment name: give at most 255 characters on one line, such as the job's environment (e.g. "production")`,
    );
  }

  return { resourceGroup, containerApp, apps, windowMs, deploymentEnvironment };
}

/** Group "Image": what the new revision runs, built from source or given. */
function readImage(
  { get, given, text, fail, action }: Reader,
  context: ReadInputsContext,
  containerApp: string | undefined,
) {
  const builds = readBuildInputs(get, context);
  if (!builds.ok) for (const problem of builds.errors) fail(problem.input, problem.message);
  const build = builds.ok ? builds.build : undefined;
  const image = text("image");
  if (image === undefined && action === "deploy" && !given("build-context")) {
    fail(
      "image",
      `is required for action "deploy"; give the image of the new revision (${IMAGE_FORM}), or a \`build-context\` to build it`,
    );
  }
  if (image !== undefined) {
    const problem = imageReferenceProblem(image);
    if (problem) fail("image", `"${image}" ${problem} (${IMAGE_FORM})`);
  }
  const revisionInputs = readRevisionInputs(get, context.readFile);
  if (!revisionInputs.ok) {
    for (const problem of revisionInputs.errors) fail(problem.input, problem.message);
  }
  const revision = revisionInputs.ok ? revisionInputs.revision : undefined;
  const allowApplicationChanges = readBoolean("allow-application-changes", text, fail);
  const registryIdentity = text("registry-identity");
  if (registryIdentity !== undefined && !USER_ASSIGNED_IDENTITY.test(registryIdentity)) {
    if (registryIdentity.toLowerCase() !== "system") {
      fail(
        "registry-identity",
        `"${registryIdentity}" is neither "system" nor a user-assigned identity's resource ID (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>)`,
      );
    }
  }

  const containerName = text("container-name");
  if (containerName !== undefined) {
    const problem = containerNameProblem(containerName);
    if (problem) {
      fail(
        "container-name",
        `"${containerName}" ${problem} (1-63 lower-case letters, digits and '-', starting and ending with a letter or digit)`,
      );
    }
  }

  const revisionSuffix = text("revision-suffix");
  if (revisionSuffix !== undefined) {
    const problem = revisionSuffixProblem(revisionSuffix, containerApp);
    if (problem) {
      fail(
        "revision-suffix",
        `"${revisionSuffix}" ${problem} (lower-case letters, digits and '-', ending with a letter or digit, without '--', e.g. "v1-4-2")`,
      );
    }
  }

  return {
    inputs: {
      ...(image !== undefined && { image }),
      ...(build !== undefined && { build }),
      ...(registryIdentity !== undefined && {
        registryIdentity: registryIdentity.toLowerCase() === "system" ? "system" : registryIdentity,
      }),
      ...(containerName !== undefined && { containerName }),
      ...(revision !== undefined && { revision }),
      allowApplicationChanges: allowApplicationChanges as boolean,
      ...(revisionSuffix !== undefined && { revisionSuffix }),
    },
  };
}

/** Group "Traffic": the labels, the steps and their bakes, holding, promotion and rollback. */
function readTraffic({ text, fail }: Reader, containerApp: string | undefined) {
  const labels = (["candidate-label", "production-label", "previous-label"] as const).map(
    (name) => {
      const value = text(name) ?? "";
      const problem = labelProblem(value, containerApp);
      if (problem) {
        fail(
          name,
          `"${value}" ${problem} (lower-case letters, digits and '-', starting with a letter, ending with a letter or digit, without '--', e.g. "green")`,
        );
        return undefined;
      }
      return { name, value };
    },
  );
  labels.forEach((label, index) => {
    if (!label) return;
    const earlier = labels.slice(0, index).find((other) => other?.value === label.value);
    if (earlier) {
      fail(
        label.name,
        `"${label.value}" is also \`${earlier.name}\`; \`candidate-label\`, \`production-label\` and \`previous-label\` must differ`,
      );
    }
  });

  const trafficSteps = readTrafficSteps(text("traffic-steps") ?? "", fail);

  const stepWaitMs = readDuration("step-wait", text, fail, { positive: false });
  const scaleDownDelayMs = readDuration("scale-down-delay", text, fail, { positive: false });
  const deactivatePrevious = readBoolean("deactivate-previous", text, fail);
  const autoPromote = readBoolean("auto-promote", text, fail);
  const holdAtText = text("hold-at");
  let holdAt: number | undefined;
  if (holdAtText !== undefined) {
    const value = holdAtText.replace(/%$/, "");
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 99) {
      fail("hold-at", `"${holdAtText}" is not a whole percentage from 1 to 99 (e.g. "10")`);
    } else if (autoPromote !== false) {
      fail("hold-at", "is only used with `auto-promote: false` (a held deployment)");
    } else {
      holdAt = Number(value);
    }
  }
  let rollbackTo = text("rollback-to");
  if (rollbackTo !== undefined && containerApp !== undefined) {
    const suffix = rollbackTo.startsWith(`${containerApp}--`)
      ? rollbackTo.slice(containerApp.length + 2)
      : rollbackTo;
    const problem = revisionSuffixProblem(suffix, containerApp);
    if (problem) {
      fail(
        "rollback-to",
        `"${rollbackTo}" is not a revision of ${containerApp}: give its name (${containerApp}--<suffix>) or its suffix; the suffix ${problem}`,
      );
      rollbackTo = undefined;
    } else {
      rollbackTo = `${containerApp}--${suffix}`;
    }
  }
  return {
    candidateLabel: labels[0]?.value as string,
    productionLabel: labels[1]?.value as string,
    previousLabel: labels[2]?.value as string,
    trafficSteps: trafficSteps as number[],
    stepWaitMs: stepWaitMs as number,
    deactivatePrevious: deactivatePrevious as boolean,
    scaleDownDelayMs: scaleDownDelayMs as number,
    autoPromote: autoPromote as boolean,
    ...(holdAt !== undefined && { holdAt }),
    ...(rollbackTo !== undefined && { rollbackTo }),
  };
}

/** Group "Checks": the smoke checks, how long they may retry, and how often they run. */
function readChecks({ given, text, fail, errors }: Reader) {
  let smokeChecks: SmokeCheck[] = [];
  const smokeChecksText = given("smoke-checks");
  if (smokeChecksText !== undefined) {
    const parsed = parseSmokeChecks(smokeChecksText);
    errors.push(...parsed.errors);
    smokeChecks = parsed.checks;
  } else {
    const path = text("smoke-path") ?? "/";
    const problem = smokePathProblem(path);
    if (problem) fail("smoke-path", `"${path}" ${problem} (e.g. "/health")`);
    else smokeChecks = [defaultSmokeCheck(path)];
  }

  const smokeTimeoutMs = readDuration("smoke-timeout", text, fail, { positive: true });
  const checkIntervalMs = readDuration("check-interval", text, fail, { positive: true });
  const skipChecks = readBoolean("skip-checks", text, fail);
  return {
    smokeChecks,
    smokeTimeoutMs: smokeTimeoutMs as number,
    checkIntervalMs: checkIntervalMs as number,
    skipChecks: skipChecks as boolean,
  };
}

/** Group "Gates": how deploy and promote judge the candidate by the traffic it serves. */
function readGates(
  { action, text, given, fail }: Reader,
  traffic: { stepWaitMs: number; trafficSteps: number[] },
  checks: { smokeChecks: SmokeCheck[] },
) {
  if (action !== "deploy" && action !== "promote") return undefined;
  return readGateInputs(text, given, fail, {
    smokeChecks: checks.smokeChecks,
    stepWaitMs: traffic.stepWaitMs,
    trafficSteps: action === "deploy" ? traffic.trafficSteps : undefined,
    maxDurationMs: MAX_DURATION_MS,
  });
}

/** Group "Advanced": readiness, diagnostics, what is kept after a failure, dry run, GitHub Deployments. */
function readAdvanced({ given, text, fail }: Reader) {
  const readinessTimeoutMs = readDuration("readiness-timeout", text, fail, { positive: true });
  const diagnosticsTimeoutMs = readDuration("diagnostics-timeout", text, fail, { positive: false });
  if (diagnosticsTimeoutMs !== undefined && diagnosticsTimeoutMs > MAX_DIAGNOSTICS_MS) {
    fail(
      "diagnostics-timeout",
      `"${text("diagnostics-timeout")}" is longer than the maximum of 5m: a failed run waits this long before it deactivates the revision`,
    );
  }
  const diagnosticsLinesText = text("diagnostics-lines") ?? "";
  const diagnosticsLines = /^\d+$/.test(diagnosticsLinesText)
    ? Number(diagnosticsLinesText)
    : undefined;
  if (diagnosticsLines === undefined || diagnosticsLines > MAX_DIAGNOSTICS_LINES) {
    fail(
      "diagnostics-lines",
      `"${diagnosticsLinesText}" is not a whole number of lines from 0 to ${MAX_DIAGNOSTICS_LINES} (the most the log stream serves), e.g. "100"`,
    );
  }

  const keepFailedRevision = readBoolean("keep-failed-revision", text, fail);
  const dryRun = readBoolean("dry-run", text, fail);
  const githubToken = given("github-token")?.trim();
  return {
    readinessTimeoutMs: readinessTimeoutMs as number,
    diagnosticsLines: diagnosticsLines as number,
    diagnosticsTimeoutMs: diagnosticsTimeoutMs as number,
    keepFailedRevision: keepFailedRevision as boolean,
    dryRun: dryRun as boolean,
    ...(githubToken !== undefined && { githubToken }),
  };
}

/** The subscription: given, else from `creds` or the service connection (not for insights). */
function readSubscription(
  { given, text, fail, action }: Reader,
  auth: AuthInputs | undefined,
  context: ReadInputsContext,
): string | undefined {
  let subscriptionId = text("subscription-id");
  if (action === "insights") {
    // Insights reads records from GitHub or Azure DevOps, never Azure: no subscription needed.
  } else if (subscriptionId !== undefined) {
    if (!isGuid(subscriptionId)) {
      fail(
        "subscription-id",
        `"${subscriptionId}" is not a subscription ID; expected a GUID such as 00000000-0000-0000-0000-000000000000`,
      );
    }
  } else {
    subscriptionId = auth?.creds?.subscriptionId ?? context.subscriptionId;
    const credsBroken = given("creds") !== undefined && auth?.creds === undefined;
    if (subscriptionId === undefined && !credsBroken) {
      fail(
        "subscription-id",
        "is required; give the subscription ID (a GUID), or a creds JSON that has subscriptionId",
      );
    }
  }

  return subscriptionId;
}

type Fail = (input: string, message: string) => void;
type Text = (name: string) => string | undefined;

function readEnum<T extends string>(
  name: string,
  options: readonly T[],
  text: Text,
  fail: Fail,
): T | undefined {
  const value = text(name) ?? "";
  const match = options.find((option) => option.toLowerCase() === value.toLowerCase());
  if (match === undefined) fail(name, `"${value}" is not one of ${options.join(", ")}`);
  return match;
}

function readBoolean(name: string, text: Text, fail: Fail): boolean | undefined {
  const value = (text(name) ?? "").toLowerCase();
  if (value === "true") return true;
  if (value === "false") return false;
  fail(name, `"${text(name) ?? ""}" is not a boolean; use true or false`);
  return undefined;
}

function readDuration(
  name: string,
  text: Text,
  fail: Fail,
  { positive }: { positive: boolean },
): number | undefined {
  const value = text(name) ?? "";
  const ms = parseDuration(value);
  if (ms === undefined) {
    fail(name, `"${value}" is not a duration; ${DURATION_HELP}`);
    return undefined;
  }
  if (positive && ms <= 0) {
    fail(name, `"${value}" must be longer than zero; ${DURATION_HELP}`);
    return undefined;
  }
  if (ms > MAX_DURATION_MS) {
    fail(name, `"${value}" is longer than the maximum of 24h; ${DURATION_HELP}`);
    return undefined;
  }
  return ms;
}

function readTrafficSteps(value: string, fail: Fail): number[] | undefined {
  const items = value.split(",").map((item) => item.trim().replace(/%$/, "").trim());
  const steps: number[] = [];
  for (const item of items) {
    if (!/^\d+$/.test(item) || Number(item) < 1 || Number(item) > 100) {
      fail(
        "traffic-steps",
        `"${value}": ${item === "" ? "an empty step" : `"${item}"`} is not a whole percentage from 1 to 100 ${STEPS_EXAMPLE}`,
      );
      return undefined;
    }
    steps.push(Number(item));
  }
  const rising = steps.every((step, index) => index === 0 || step > steps[index - 1]);
  if (!rising || steps[steps.length - 1] !== 100) {
    fail("traffic-steps", `"${value}" must rise step by step and end at 100 ${STEPS_EXAMPLE}`);
    return undefined;
  }
  return steps;
}

function readAuth(
  given: (name: string) => string | undefined,
  text: Text,
  fail: Fail,
): AuthInputs | undefined {
  let broken = false;
  const failAuth: Fail = (input, message) => {
    broken = true;
    fail(input, message);
  };

  const cloud = readEnum<CloudName>(
    "environment",
    inputSpec("environment").options as CloudName[],
    text,
    failAuth,
  );

  const armEndpoint = readHttpsUrl("arm-endpoint", text, failAuth);
  const authorityHost = readHttpsUrl("authority-host", text, failAuth);
  if (cloud === "Custom") {
    for (const [name, value] of [
      ["arm-endpoint", text("arm-endpoint")],
      ["authority-host", text("authority-host")],
    ] as const) {
      if (value === undefined) {
        failAuth(name, "is required for environment Custom; give an https URL");
      }
    }
  }

  const clientId = text("client-id");
  const tenantId = text("tenant-id");
  for (const [name, value] of [
    ["client-id", clientId],
    ["tenant-id", tenantId],
  ] as const) {
    if (value !== undefined && !isGuid(value)) {
      failAuth(name, `"${value}" is not a GUID such as 00000000-0000-0000-0000-000000000000`);
    }
  }
  if (clientId !== undefined && tenantId === undefined) {
    failAuth(
      "tenant-id",
      "is required with `client-id`; give the Microsoft Entra tenant ID (a GUID)",
    );
  }
  if (tenantId !== undefined && clientId === undefined) {
    failAuth(
      "client-id",
      "is required with `tenant-id`; give the client ID (a GUID) of the identity to sign in as",
    );
  }

  const audience = text("audience");
  if (audience !== undefined) {
    if (/\s/.test(audience)) failAuth("audience", `"${audience}" must not contain spaces`);
    else if (clientId === undefined) {
      failAuth("audience", "is only used with `client-id` and `tenant-id` (OIDC sign-in)");
    }
  }

  let creds: ServicePrincipalCreds | undefined;
  const credsText = given("creds");
  if (credsText !== undefined) {
    if (clientId !== undefined) {
      failAuth(
        "creds",
        "cannot be combined with `client-id`; give either `creds` or `client-id` and `tenant-id`",
      );
    }
    creds = readCreds(credsText, failAuth);
  }

  if (broken || cloud === undefined) return undefined;
  return {
    cloud,
    ...(clientId !== undefined && { clientId }),
    ...(tenantId !== undefined && { tenantId }),
    ...(audience !== undefined && { audience }),
    ...(creds && { creds }),
    ...(armEndpoint !== undefined && { armEndpoint }),
    ...(authorityHost !== undefined && { authorityHost }),
  };
}

function readHttpsUrl(name: string, text: Text, fail: Fail): string | undefined {
  const value = text(name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(
      name,
      `"${value}" is not a URL; expected an https URL such as https://management.example.com`,
    );
    return undefined;
  }
  if (url.protocol !== "https:") {
    fail(name, `"${value}" must use https (e.g. https://management.example.com)`);
    return undefined;
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    fail(name, "must be a plain https URL without credentials, query or fragment");
    return undefined;
  }
  return value;
}

const CREDS_FORM =
  'a JSON object {"clientId": "<GUID>", "clientSecret": "...", "tenantId": "<GUID>", "subscriptionId": "<GUID>"} (subscriptionId optional)';

/** The parse error and the values stay out of every message: the text holds a secret. */
function readCreds(value: string, fail: Fail): ServicePrincipalCreds | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    fail("creds", `is not valid JSON; expected ${CREDS_FORM}`);
    return undefined;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    fail("creds", `is not a JSON object; expected ${CREDS_FORM}`);
    return undefined;
  }
  const record = parsed as Record<string, unknown>;
  const problems: string[] = [];
  const field = (key: string, guid: boolean, optional = false): string | undefined => {
    const raw = record[key];
    if (raw === undefined && optional) return undefined;
    if (typeof raw !== "string" || raw.trim() === "") {
      problems.push(`${key} is missing`);
      return undefined;
    }
    if (guid && !isGuid(raw.trim())) {
      problems.push(`${key} is not a GUID`);
      return undefined;
    }
    return raw.trim();
  };
  const clientId = field("clientId", true);
  const clientSecret = field("clientSecret", false);
  const tenantId = field("tenantId", true);
  const subscriptionId = field("subscriptionId", true, true);
  if (problems.length > 0 || !clientId || !clientSecret || !tenantId) {
    fail("creds", `${problems.join(", ")}; expected ${CREDS_FORM}`);
    return undefined;
  }
  return { clientId, clientSecret, tenantId, ...(subscriptionId && { subscriptionId }) };
}

function orderBySchema(errors: InputError[]): InputError[] {
  const position = new Map(INPUTS.map((spec, index) => [spec.name, index]));
  return errors
    .map((error, index) => ({ error, index }))
    .sort(
      (a, b) =>
        (position.get(a.error.input) ?? 0) - (position.get(b.error.input) ?? 0) ||
        a.index - b.index,
    )
    .map(({ error }) => error);
}
