/**
 * Secrets: a known value through every secret-bearing input — the `creds` client secret,
 * `registry-password` and `github-token` — must appear in no log line the runner shows, no stderr,
 * summary, output, state file, app tag, ARM write or GitHub API request, on the success, failure,
 * post-step and error paths. Each scenario runs the main step and then the post step, as the
 * runner does, and also says whether each secret was masked (`::add-mask::`), so that the runner
 * would hide it even from a line the tool did not mean to print.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificateAuthority } from "../../emulator/ca.ts";
import type { RehearsalRun } from "../../emulator/rehearsal.ts";
import type { Emulator } from "../../emulator/types.ts";
import {
  freePort,
  missingTools,
  startLocalRegistry,
  writeContext,
} from "../../__tests__/image/localRegistry.ts";
import { startGitHubApi } from "../../__tests__/support/githubApi.ts";
import {
  FAST_INPUTS,
  RESOURCE_GROUP,
  credsInputs,
  image,
  newJob,
  revisionsOf,
  runBundle,
  runTexts,
  seedRolloutApp,
  startWorld,
} from "./world.ts";

export type SecretInput = "creds" | "registry-password" | "github-token";

export interface SecretScenarioResult {
  scenario: string;
  path: "success" | "failure" | "post" | "error";
  /** The secrets this scenario passed, and where each was found (empty: nowhere). */
  secrets: { input: SecretInput; foundIn: string[]; masked: boolean }[];
  /** What the runs ended with, for the reader to see the path was the one named. */
  outcome: string;
  /** Set when the scenario could not run here (a missing tool). */
  skipped?: string;
}

interface Scenario {
  name: string;
  path: SecretScenarioResult["path"];
  build?: "push" | "refused";
  /** Inputs beyond the app's, given the secrets. */
  inputs: (secrets: Secrets) => Record<string, string>;
  /** Acts on the main run's log lines (make the candidate fail, kill the run). */
  onLine?: (text: string, world: ScenarioWorld) => void;
  /** The GitHub API refuses the token and echoes it back in its error. */
  apiEchoesToken?: boolean;
  expect: (main: RehearsalRun) => boolean;
}

interface Secrets {
  clientSecret: string;
  registryPassword: string;
  githubToken: string;
}

interface ScenarioWorld {
  emulator: Emulator;
  pid?: number;
  pending: Promise<unknown>[];
}

const APP = "shop";
const USER = "deployer";

const SCENARIOS: Scenario[] = [
  {
    name: "A deploy that is promoted",
    path: "success",
    inputs: () => ({ image: image("healthy-v2") }),
    expect: (main) => main.outputs.result === "promoted",
  },
  {
    name: "A deploy whose candidate fails at 50% and is rolled back",
    path: "failure",
    inputs: () => ({ image: image("healthy-v2") }),
    onLine: (text, world) => {
      if (/^\[2\/3\] /.test(text) && world.pending.length === 0) {
        world.pending.push(
          world.emulator.setRevisionBehaviour(
            RESOURCE_GROUP,
            APP,
            revisionsOf(APP).candidate,
            "http500",
          ),
        );
      }
    },
    expect: (main) => main.outputs.result === "rolled-back",
  },
  {
    name: "A deploy killed (kill -9) at 50%, restored by the post step",
    path: "post",
    inputs: () => ({ image: image("healthy-v2") }),
    onLine: (text, world) => {
      if (/^\[2\/3\] /.test(text) && world.pid !== undefined) process.kill(world.pid, "SIGKILL");
    },
    expect: (main) => main.signal === "SIGKILL",
  },
  {
    name: "Invalid input (traffic-steps) beside every secret, a build from source included",
    path: "error",
    inputs: (s) => ({
      image: "",
      "build-context": ".",
      registry: "registry.example.com",
      "image-name": "shop",
      "registry-username": USER,
      "registry-password": s.registryPassword,
      "traffic-steps": "50,10",
    }),
    expect: (main) => main.exitCode === 1,
  },
  {
    name: "Malformed creds JSON that carries the secret",
    path: "error",
    inputs: (s) => ({
      image: image("healthy-v2"),
      creds: `{"clientId":"x","clientSecret":"${s.clientSecret}","tenantId":`,
    }),
    expect: (main) => main.exitCode === 1,
  },
  {
    name: "The GitHub API refuses the token and echoes it in its error",
    path: "error",
    inputs: () => ({ image: image("healthy-v2") }),
    apiEchoesToken: true,
    expect: (main) => main.exitCode !== null,
  },
  {
    name: "A deploy built from source and pushed with the registry password, promoted",
    path: "success",
    build: "push",
    inputs: () => ({}),
    expect: (main) => main.outputs.result === "promoted",
  },
  {
    name: "A build whose registry refuses the password",
    path: "error",
    build: "refused",
    inputs: () => ({}),
    expect: (main) => main.exitCode === 1,
  },
];

/** Scenarios that need no image build tools, for a quick run. */
export function quickScenarios(): string[] {
  return SCENARIOS.filter((s) => !s.build).map((s) => s.name);
}

export async function runSecretScenarios(only?: string[]): Promise<SecretScenarioResult[]> {
  const results: SecretScenarioResult[] = [];
  for (const scenario of SCENARIOS) {
    if (only && !only.includes(scenario.name)) continue;
    results.push(await runScenario(scenario));
  }
  return results;
}

async function runScenario(scenario: Scenario): Promise<SecretScenarioResult> {
  const passed: SecretInput[] = ["creds", "github-token"];
  if (scenario.build || scenario.inputs(dummySecrets)["registry-password"] !== undefined) {
    passed.push("registry-password");
  }
  const missing = scenario.build ? missingTools() : [];
  if (missing.length > 0) {
    return {
      scenario: scenario.name,
      path: scenario.path,
      secrets: passed.map((input) => ({ input, foundIn: [], masked: false })),
      outcome: "",
      skipped: `${missing.join(" and ")} not installed`,
    };
  }
  const emulator = await startWorld();
  const secrets: Secrets = {
    clientSecret: emulator.info.clientSecret,
    registryPassword: `reg-${randomBytes(12).toString("hex")}`,
    githubToken: `ghs_${randomBytes(18).toString("base64url")}`,
  };
  const api = await startGitHubApi({
    tokens: scenario.apiEchoesToken ? {} : { [secrets.githubToken]: "write" },
    repository: "contoso/shop",
  });
  if (scenario.apiEchoesToken) {
    api.failNext({ status: 401, message: `Bad credentials: token ${secrets.githubToken}` });
  }
  const dir = await mkdtemp(join(tmpdir(), "aca-bg-secrets-"));
  let registry: Awaited<ReturnType<typeof startLocalRegistry>> | undefined;
  try {
    await seedRolloutApp(emulator, APP);
    let env: Record<string, string> = { GITHUB_API_URL: api.url, NO_PROXY: "127.0.0.1" };
    let buildInputs: Record<string, string> = {};
    if (scenario.build) {
      const built = await buildWorld(emulator, dir, scenario.build, secrets.registryPassword);
      registry = built.registry;
      env = { ...env, ...built.env };
      buildInputs = built.inputs;
    }
    const job = newJob();
    const inputs = {
      "container-app": APP,
      "revision-suffix": "v2",
      ...FAST_INPUTS,
      ...credsInputs(emulator),
      "github-token": secrets.githubToken,
      ...buildInputs,
      ...scenario.inputs(secrets),
    };
    const world: ScenarioWorld = { emulator, pending: [] };
    const main = await runBundle(emulator, {
      inputs,
      job,
      env,
      onSpawn: (pid) => (world.pid = pid),
      onLine: scenario.onLine ? (text) => scenario.onLine?.(text, world) : undefined,
    });
    await Promise.allSettled(world.pending);
    const post = await runBundle(emulator, {
      inputs,
      job,
      env,
      entry: "dist/post.js",
      state: main.state,
    });
    const texts: [string, string][] = [
      ...runTexts(main, "main"),
      ...runTexts(post, "post"),
      ["the app's tags", JSON.stringify(emulator.getApp(RESOURCE_GROUP, APP).tags)],
      [
        "ARM writes",
        JSON.stringify(
          emulator
            .armJournal()
            .filter((e) => e.method !== "GET")
            .map((e) => e.body),
        ),
      ],
      ["GitHub API requests", JSON.stringify(api.requests.map((r) => r.body))],
    ];
    const raw = `${main.stdout}\n${post.stdout}`;
    const value: Record<SecretInput, string> = {
      creds: secrets.clientSecret,
      "registry-password": secrets.registryPassword,
      "github-token": secrets.githubToken,
    };
    const outcome = `main ${main.signal ?? `exit ${main.exitCode}`}${main.outputs.result ? ` (${main.outputs.result})` : ""}, post exit ${post.exitCode}${scenario.expect(main) ? "" : " — not the path this scenario is about"}`;
    return {
      scenario: scenario.name,
      path: scenario.path,
      secrets: passed.map((input) => ({
        input,
        foundIn: texts.filter(([, text]) => text.includes(value[input])).map(([name]) => name),
        masked: raw.includes(`::add-mask::${value[input]}`),
      })),
      outcome,
    };
  } finally {
    await registry?.stop();
    await api.close();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const dummySecrets: Secrets = { clientSecret: "", registryPassword: "", githubToken: "" };

/**
 * A real registry with TLS and a password (the known one, or another one when it must refuse),
 * a build context, and what the bundle needs to trust and use them.
 */
async function buildWorld(
  emulator: Emulator,
  dir: string,
  mode: "push" | "refused",
  password: string,
) {
  const ca = await createCertificateAuthority(join(dir, "ca"));
  const leaf = await ca.issue(["127.0.0.1"]);
  const registry = await startLocalRegistry({
    dir: join(dir, "registry"),
    port: await freePort(),
    cert: leaf.cert,
    key: leaf.key,
    caPem: ca.caPem,
    auth: {
      htpasswd: {
        username: USER,
        password: mode === "push" ? password : `other-${randomBytes(6).toString("hex")}`,
      },
    },
  });
  const caBundle = join(dir, "ca-bundle.pem");
  await writeFile(caBundle, `${await readFile(emulator.info.caFile, "utf8")}\n${ca.caPem}`);
  const storageConf = join(dir, "storage.conf");
  await writeFile(
    storageConf,
    `[storage]\ndriver = "vfs"\ngraphroot = "${join(dir, "storage", "root")}"\nrunroot = "${join(dir, "storage", "run")}"\n`,
  );
  const context = await writeContext(join(dir, "app"), "FROM scratch\nCOPY hello.txt /hello.txt\n");
  return {
    registry,
    env: {
      NODE_EXTRA_CA_CERTS: caBundle,
      SSL_CERT_FILE: caBundle,
      CONTAINERS_STORAGE_CONF: storageConf,
    },
    inputs: {
      image: "",
      "build-context": context,
      registry: registry.host,
      "image-name": "contoso/shop",
      "image-tag": "v2",
      builder: "buildah",
      "registry-username": USER,
      "registry-password": password,
      "smoke-timeout": "10s",
    },
  };
}

export function leaks(results: SecretScenarioResult[]): string[] {
  return results.flatMap((r) =>
    r.secrets
      .filter((s) => s.foundIn.length > 0)
      .map((s) => `${r.scenario}: ${s.input} found in ${s.foundIn.join(", ")}`),
  );
}
