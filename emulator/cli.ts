/**
 * `npm run emulator`: runs the emulator in the foreground until SIGINT / SIGTERM (or POST /stop on
 * the control API). With `--json` the first line on stdout is the EmulatorInfo object, for
 * scripts; otherwise it prints a banner for people.
 */
import { parseArgs } from "node:util";
import { startEmulator, type EmulatorInfo, type EmulatorOptions } from "./index.ts";

const usage = `Usage: npm run emulator -- [options]

  --json                        print EmulatorInfo as one JSON line on stdout, nothing else
  --timing <fast|azure>         timing profile: short fixed delays (default) or the durations
                                recorded on Azure
  --time-scale <factor>         multiply every duration of the profile, e.g. 0.05 (default 1)
  --seed <seed>                 seed of the azure profile's sampled durations (default 1)
  --operation-delay-ms <ms>     fast profile: how long a write stays InProgress (default 300)
  --provisioning-delay-ms <ms>  fast profile: how long a started revision stays Activating
  --replica-start-delay-ms <ms> fast profile: how long each further replica takes to be ready
                                before it is Running (default 300)
  --retire-delay-ms <ms>        Single mode: how long the previous revision stays Deprovisioning
                                once the new one is ready (default 300; azure 60 s, scaled)
  --operation-expiry-ms <ms>    when an operation-expired write fails (default 2000; azure
                                15 min, scaled)
  --retry-after-seconds <s>     Retry-After on 429s whose fault gives none (default 1)
  --ingestion-delay-ms <ms>     how late requests show in Azure Monitor metrics and logs
                                (default 0)
  --data-dir <path>             where the CA is written (default: a temporary folder)
  --help                        show this help`;

async function main(): Promise<void> {
  let args: ReturnType<typeof parse>;
  let options: EmulatorOptions;
  try {
    args = parse();
    options = {
      timing: timingOption(args.timing),
      timeScale: scaleOption(args["time-scale"]),
      seed: args.seed,
      provisioningDelayMs: integerOption(args["provisioning-delay-ms"], "--provisioning-delay-ms"),
      replicaStartDelayMs: integerOption(
        args["replica-start-delay-ms"],
        "--replica-start-delay-ms",
      ),
      operationDelayMs: integerOption(args["operation-delay-ms"], "--operation-delay-ms"),
      retireDelayMs: integerOption(args["retire-delay-ms"], "--retire-delay-ms"),
      operationExpiryMs: integerOption(args["operation-expiry-ms"], "--operation-expiry-ms"),
      retryAfterSeconds: integerOption(args["retry-after-seconds"], "--retry-after-seconds"),
      ingestionDelayMs: integerOption(args["ingestion-delay-ms"], "--ingestion-delay-ms"),
      dataDir: args["data-dir"],
    };
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${usage}\n`);
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  try {
    emulator = await startEmulator(options);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
    return;
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (!args.json) process.stderr.write(`\n${signal}: stopping the emulator…\n`);
    emulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`The emulator did not stop cleanly: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));

  if (args.json) process.stdout.write(`${JSON.stringify(emulator.info)}\n`);
  else process.stdout.write(banner(emulator.info));
}

function parse() {
  return parseArgs({
    options: {
      json: { type: "boolean", default: false },
      timing: { type: "string" },
      "time-scale": { type: "string" },
      seed: { type: "string" },
      "provisioning-delay-ms": { type: "string" },
      "replica-start-delay-ms": { type: "string" },
      "operation-delay-ms": { type: "string" },
      "retire-delay-ms": { type: "string" },
      "operation-expiry-ms": { type: "string" },
      "retry-after-seconds": { type: "string" },
      "ingestion-delay-ms": { type: "string" },
      "data-dir": { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  }).values;
}

function integerOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new Error(`${flag} takes a non-negative integer, got "${value}".`);
  return Number(value);
}

function timingOption(value: string | undefined): EmulatorOptions["timing"] {
  if (value === undefined || value === "fast" || value === "azure") return value;
  throw new Error(`--timing takes "fast" or "azure", got "${value}".`);
}

function scaleOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const scale = Number(value);
  if (value.trim() === "" || !Number.isFinite(scale) || scale <= 0) {
    throw new Error(`--time-scale takes a positive number such as 0.05, got "${value}".`);
  }
  return scale;
}

function banner(info: EmulatorInfo): string {
  const rows: [string, string][] = [
    ["ARM endpoint", info.arm],
    ["Authority host", info.authorityHost],
    ["Tenant", info.tenantId],
    ["Client id", info.clientId],
    ["Client secret", info.clientSecret],
    ["Subscription", info.subscriptionId],
    ["Location", info.location],
    ["CA certificate", info.caFile],
    ["HTTPS proxy", info.proxy],
    ["Control API", info.control],
    ["Log streams", info.logStream],
    ["GitHub OIDC URL", info.githubOidcUrl],
    ["GitHub OIDC token", info.githubOidcToken],
    ["Pipelines OIDC URL", info.adoOidcUrl],
    ["Pipelines token", info.adoAccessToken],
    ["Service connection", info.adoServiceConnectionId],
    ["Timing", `${info.timing.profile}, time scale ${info.timing.timeScale}`],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const table = rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`).join("\n");
  return `Azure Container Apps emulator is running.

${table}

Point a client at it:
  export NODE_EXTRA_CA_CERTS=${info.caFile}
  export HTTPS_PROXY=${info.proxy} NO_PROXY=127.0.0.1,localhost
  export ACTIONS_ID_TOKEN_REQUEST_URL='${info.githubOidcUrl}'
  export ACTIONS_ID_TOKEN_REQUEST_TOKEN=${info.githubOidcToken}
  export SYSTEM_OIDCREQUESTURI=${info.adoOidcUrl} SYSTEM_ACCESSTOKEN=${info.adoAccessToken}
  new ContainerAppsAPIClient(credential, "${info.subscriptionId}", { endpoint: "${info.arm}" })

Seed an app:  curl -X POST ${info.control}/seed -H 'content-type: application/json' \\
  -d '{"resourceGroup":"rg","environment":"env","app":"web","revisions":[{"suffix":"v1","image":"emulator.test/app:healthy"}]}'

Press Ctrl+C to stop.
`;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `The emulator failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
