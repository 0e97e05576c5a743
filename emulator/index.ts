/**
 * The Azure Container Apps emulator: `startEmulator()` starts its CA, ARM, Entra ID and OIDC
 * issuers, control API, ingress and proxy on ephemeral loopback ports, and `stop()` takes all of
 * it down again, revision processes included. See README.md beside this file.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createArmHandler } from "./arm.ts";
import { createCertificateAuthority } from "./ca.ts";
import { appView, createControlHandler } from "./control.ts";
import { FaultInjector } from "./faults.ts";
import { createIdentity } from "./identity.ts";
import { createRoutingTable, startIngress } from "./ingress.ts";
import { Journal } from "./journal.ts";
import { LogStreams } from "./logs.ts";
import { createLogAnalyticsApi } from "./loganalytics.ts";
import { createMonitorApi } from "./monitor.ts";
import { closeServer, listenOnLoopback, trackSockets } from "./net-util.ts";
import { Operations } from "./operations.ts";
import { startRevisionProcess } from "./processes.ts";
import { startProxy } from "./proxy.ts";
import { RevisionLifecycle } from "./revisions.ts";
import { Scheduler } from "./scheduler.ts";
import { Telemetry } from "./telemetry.ts";
import { seedApp } from "./seed.ts";
import { getRevision, ResourceStore } from "./store.ts";
import { createTiming } from "./timing.ts";
import type { Emulator, EmulatorInfo, EmulatorOptions } from "./types.ts";
import { Writes } from "./writes.ts";

export type * from "./types.ts";

const defaults = {
  timing: "fast" as "fast" | "azure",
  timeScale: 1,
  seed: "1",
  retryAfterSeconds: 1,
  tenantId: "72c5d4e1-0f3b-4d8a-9e6b-5a1c2d3e4f50",
  clientId: "1f0e9d8c-7b6a-4c5d-8e4f-3a2b1c0d9e8f",
  subscriptionId: "5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716",
  location: "westeurope",
};

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const settings = {
    ...defaults,
    ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)),
  } as typeof defaults & EmulatorOptions;
  if (!Number.isInteger(settings.retryAfterSeconds) || settings.retryAfterSeconds < 0) {
    throw new Error(
      `retryAfterSeconds must be a non-negative integer, got ${String(settings.retryAfterSeconds)}.`,
    );
  }
  const timing = createTiming({
    profile: settings.timing,
    timeScale: settings.timeScale,
    seed: String(settings.seed),
    operationDelayMs: settings.operationDelayMs,
    provisioningDelayMs: settings.provisioningDelayMs,
    replicaStartDelayMs: settings.replicaStartDelayMs,
    retireDelayMs: settings.retireDelayMs,
    operationExpiryMs: settings.operationExpiryMs,
  });
  // Random unless given: nothing outside this run can hold a valid secret or request token.
  const clientSecret = settings.clientSecret ?? `emu8Q~${randomBytes(24).toString("base64url")}`;

  // Undone in reverse order when a later step fails or the emulator stops.
  const teardown: Array<() => Promise<unknown>> = [];
  const ownsDataDir = settings.dataDir === undefined;
  const dataDir = settings.dataDir ?? (await mkdtemp(join(tmpdir(), "aca-emulator-")));
  if (ownsDataDir) teardown.push(() => rm(dataDir, { recursive: true, force: true }));

  async function runTeardown(): Promise<void> {
    const errors: unknown[] = [];
    for (const step of teardown.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, "The emulator did not stop cleanly.");
  }

  try {
    const ca = await createCertificateAuthority(dataDir);
    const serverCertificate = await ca.issue(["127.0.0.1", "localhost"]);
    const journal = new Journal();
    const faults = new FaultInjector();

    const identityServer = createHttpsServer(serverCertificate);
    const identityPort = await serve(identityServer, teardown);
    const identity = await createIdentity({
      port: identityPort,
      tenantId: settings.tenantId,
      clientId: settings.clientId,
      clientSecret,
    });
    identityServer.on("request", identity.handle);

    const store = new ResourceStore(settings.subscriptionId);
    const logServer = createHttpsServer(serverCertificate);
    const logs = new LogStreams({
      base: `https://127.0.0.1:${await serve(logServer, teardown)}`,
      store,
    });
    logServer.on("request", logs.handle);
    const scheduler = new Scheduler();
    const revisions = new RevisionLifecycle({
      scheduler,
      timing,
      startProcess: startRevisionProcess,
      takeRevisionFault: (app, image) => faults.takeRevision(app, image),
      logs,
    });
    const writes = new Writes({
      store,
      operations: new Operations(store, scheduler),
      revisions,
      timing,
    });
    teardown.push(() => scheduler.stop(() => revisions.stopAll(store.apps())));

    const armListeners = new Set<Parameters<Emulator["onArmRequest"]>[0]>();
    const telemetry = new Telemetry(store, settings.ingestionDelayMs ?? 0);
    const armServer = createHttpsServer(
      serverCertificate,
      createArmHandler({
        store,
        writes,
        identity,
        faults,
        journal,
        logs,
        retryAfterSeconds: settings.retryAfterSeconds,
        actor: settings.clientId,
        requestListeners: armListeners,
        monitor: createMonitorApi({ store, telemetry }),
        logAnalytics: createLogAnalyticsApi({ store, telemetry, identity, logs }),
      }),
    );
    const armPort = await serve(armServer, teardown);

    const routing = createRoutingTable(store);
    const ingress = await startIngress({
      ca,
      routing,
      record: (entry, detail) => {
        journal.recordIngress(entry);
        telemetry.record(entry, detail);
      },
    });
    teardown.push(() => ingress.stop());
    const proxy = await startProxy({
      ingressPort: ingress.port,
      isIngressHost: (host) => routing.isIngressHost(host),
    });
    teardown.push(() => proxy.stop());

    const controlServer = createHttpServer();
    const controlPort = await serve(controlServer, teardown);

    const info: EmulatorInfo = {
      arm: `https://127.0.0.1:${armPort}`,
      authorityHost: identity.authorityHost,
      tenantId: settings.tenantId,
      clientId: settings.clientId,
      clientSecret,
      subscriptionId: settings.subscriptionId,
      location: settings.location,
      caFile: ca.caFile,
      proxy: proxy.url,
      control: `http://127.0.0.1:${controlPort}`,
      logStream: logs.base,
      githubOidcUrl: identity.githubOidcUrl,
      githubOidcToken: identity.githubOidcToken,
      adoOidcUrl: identity.adoOidcUrl,
      adoAccessToken: identity.adoAccessToken,
      adoServiceConnectionId: identity.adoServiceConnectionId,
      timing: { profile: timing.profile, timeScale: timing.timeScale },
    };
    const seedContext = {
      store,
      telemetry,
      writes,
      revisions,
      scheduler,
      subscriptionId: settings.subscriptionId,
      location: settings.location,
    };

    let stopping: Promise<void> | undefined;
    const emulator: Emulator = {
      info,
      seed: async (spec) => appView(store, await seedApp(seedContext, spec)),
      getApp: (resourceGroup, app) => appView(store, store.findApp(resourceGroup, app)),
      setTraffic: async (resourceGroup, name, traffic) => {
        const app = store.findApp(resourceGroup, name);
        writes.setTraffic(app, traffic);
        return appView(store, app);
      },
      setRevisionBehaviour: (resourceGroup, app, revision, behaviour) =>
        revisions.setBehaviour(getRevision(store.findApp(resourceGroup, app), revision), behaviour),
      injectArmFault: (fault) => faults.injectArm(fault),
      injectRevisionFault: (fault) => faults.injectRevision(fault),
      injectLogStreamFault: (fault) => logs.injectFault(fault),
      onArmRequest: (listener) => {
        armListeners.add(listener);
        return () => armListeners.delete(listener);
      },
      clearFaults: () => {
        faults.clear();
        logs.clearFaults();
      },
      setIngestionDelay: (ms) => telemetry.setIngestionDelay(ms),
      armJournal: () => journal.arm(),
      ingressJournal: () => journal.ingress(),
      logStreamJournal: () => logs.requests(),
      consoleLogs: () =>
        logs.consoleEntries().map(({ time, app, revision, replica, container, stream, text }) => ({
          time,
          app,
          revision,
          replica,
          container,
          stream,
          text,
        })),
      systemEvents: () =>
        logs
          .systemEvents()
          .map(({ time, app, revision, replica, type, reason, message, count }) => ({
            time,
            app,
            revision,
            replica,
            type,
            reason,
            message,
            count,
          })),
      clearJournal: () => {
        journal.clear();
        logs.clearRequests();
      },
      stop: () => (stopping ??= runTeardown()),
    };
    controlServer.on("request", createControlHandler(emulator));
    return emulator;
  } catch (error) {
    await runTeardown().catch(() => undefined);
    throw error;
  }
}

/** Listens on an ephemeral loopback port and registers the server's shutdown. */
async function serve(server: Server, teardown: Array<() => Promise<unknown>>): Promise<number> {
  const sockets = trackSockets(server);
  const port = await listenOnLoopback(server);
  teardown.push(() => closeServer(server, sockets));
  return port;
}
