/**
 * The remote ACR build against a local stand-in for ARM and blob storage that follows the
 * Microsoft.ContainerRegistry REST API (registries list, listBuildSourceUploadUrl, scheduleRun,
 * runs, listLogSasUrl): the requests the builder sends through the Azure SDK are the ones the API
 * specifies. The stand-in speaks HTTPS with its own CA, as ARM does, because the SDK sends a
 * bearer token over TLS only.
 */
import { execFileSync } from "node:child_process";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:https";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificateAuthority } from "../../emulator/ca.ts";
import { connectAcrTasks } from "../../src/azure/acrTasks.ts";
import type { Clock } from "../../src/core/clock.ts";
import { buildAndPush } from "../../src/image/buildAndPush.ts";
import type { BuildLog, BuildRequest, CommandRunner } from "../../src/image/types.ts";
import { fetchTrusting } from "./localRegistry.ts";

const SUBSCRIPTION = "11111111-2222-3333-4444-555555555555";
const REGISTRY_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/images/providers/Microsoft.ContainerRegistry/registries/myacr`;
const RUN_ID = "cb1";
const DIGEST = `sha256:${"ab".repeat(32)}`;
const ARM_TOKEN = "arm-token";
const ACR_CHALLENGE =
  'Bearer realm="https://myacr.azurecr.io/oauth2/token",service="myacr.azurecr.io"';

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/** Stands in for ARM and for the storage account behind the upload and log links. */
class FakeAzure {
  readonly requests: Recorded[] = [];
  server!: Server;
  url = "";
  /** Run statuses returned by successive GETs of the run; the last one sticks. */
  statuses: string[] = ["Queued", "Running", "Succeeded"];
  /** Log text appended at each GET of the run. */
  logChunks: string[] = [
    "Sending build context to Docker daemon\nStep 1/2 : FROM scratch\n",
    "Step 2/2 : COPY hello.txt /\n",
    "Successfully pushed\n",
  ];
  runErrorMessage?: string;
  throttleFirstList = true;
  /** Whether the run reports the digest of what it pushed. */
  reportDigest = true;

  private log = "";
  private runGets = 0;

  async start(tls: { key: string; cert: string }): Promise<void> {
    this.server = createServer(tls, (request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => this.handle(request, Buffer.concat(chunks), response));
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.url = `https://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  find(method: string, pathEnd: string): Recorded | undefined {
    return this.requests.find(
      (request) => request.method === method && request.path.endsWith(pathEnd),
    );
  }

  private handle(request: IncomingMessage, body: Buffer, response: ServerResponse): void {
    const url = new URL(request.url ?? "/", this.url);
    const recorded = {
      method: request.method ?? "",
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      body,
    };
    this.requests.push(recorded);
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { "content-type": "application/json", ...headers });
      response.end(JSON.stringify(value));
    };
    const isArm = !url.pathname.startsWith("/blob/") && !url.pathname.startsWith("/acr/");
    if (isArm && request.headers.authorization !== `Bearer ${ARM_TOKEN}`) {
      json(401, { error: { code: "AuthenticationFailed", message: "no token" } });
      return;
    }
    const registries = `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.ContainerRegistry/registries`;
    if (request.method === "GET" && url.pathname === registries) {
      if (this.throttleFirstList) {
        this.throttleFirstList = false;
        json(
          429,
          { error: { code: "TooManyRequests", message: "slow down" } },
          { "retry-after": "3" },
        );
      } else if (!url.searchParams.has("page")) {
        json(200, {
          value: [{ id: `${registries}/other`, properties: { loginServer: "other.azurecr.io" } }],
          nextLink: `${this.url}${registries}?api-version=2023-07-01&page=2`,
        });
      } else {
        json(200, {
          value: [{ id: REGISTRY_ID, properties: { loginServer: "myacr.azurecr.io" } }],
        });
      }
    } else if (
      request.method === "POST" &&
      url.pathname === `${REGISTRY_ID}/listBuildSourceUploadUrl`
    ) {
      json(200, {
        uploadUrl: `${this.url}/blob/source/ctx.tar.gz?sv=2020&sig=x`,
        relativePath: "source/202501/ctx.tar.gz",
      });
    } else if (request.method === "PUT" && url.pathname === "/blob/source/ctx.tar.gz") {
      response.writeHead(request.headers["x-ms-blob-type"] === "BlockBlob" ? 201 : 400).end();
    } else if (request.method === "POST" && url.pathname === `${REGISTRY_ID}/scheduleRun`) {
      json(200, {
        id: `${REGISTRY_ID}/runs/${RUN_ID}`,
        name: RUN_ID,
        properties: { runId: RUN_ID, status: "Queued" },
      });
    } else if (
      request.method === "POST" &&
      url.pathname === `${REGISTRY_ID}/runs/${RUN_ID}/listLogSasUrl`
    ) {
      json(200, { logLink: `${this.url}/blob/logs/${RUN_ID}/rawtext.log?sig=y` });
    } else if (request.method === "GET" && url.pathname === `${REGISTRY_ID}/runs/${RUN_ID}`) {
      const status = this.statuses[Math.min(this.runGets, this.statuses.length - 1)];
      this.log += this.logChunks[this.runGets] ?? "";
      this.runGets++;
      const done = status === "Succeeded";
      json(200, {
        id: `${REGISTRY_ID}/runs/${RUN_ID}`,
        properties: {
          runId: RUN_ID,
          status,
          runErrorMessage: this.runErrorMessage,
          outputImages: done
            ? [
                {
                  registry: "myacr.azurecr.io",
                  repository: "web",
                  tag: "v7",
                  digest: this.reportDigest ? DIGEST : undefined,
                },
              ]
            : undefined,
        },
      });
    } else if (
      request.method === "POST" &&
      url.pathname === `${REGISTRY_ID}/runs/${RUN_ID}/cancel`
    ) {
      response.writeHead(200).end();
    } else if (url.pathname === "/acr/v2/") {
      json(401, {}, { "www-authenticate": ACR_CHALLENGE });
    } else if (request.method === "POST" && url.pathname === "/acr/oauth2/exchange") {
      const form = new URLSearchParams(body.toString());
      json(form.get("access_token") === ARM_TOKEN ? 200 : 401, {
        refresh_token: "acr-refresh-token",
      });
    } else if (request.method === "GET" && url.pathname === "/acr/oauth2/token") {
      const basic = `Basic ${Buffer.from("00000000-0000-0000-0000-000000000000:acr-refresh-token").toString("base64")}`;
      json(request.headers.authorization === basic ? 200 : 401, {
        access_token: "acr-access-token",
      });
    } else if (request.method === "HEAD" && url.pathname === "/acr/v2/web/manifests/v7") {
      const ok = request.headers.authorization === "Bearer acr-access-token";
      response
        .writeHead(
          ok ? 200 : 401,
          ok ? { "docker-content-digest": DIGEST } : { "www-authenticate": ACR_CHALLENGE },
        )
        .end();
    } else if (request.method === "GET" && url.pathname === `/blob/logs/${RUN_ID}/rawtext.log`) {
      const from = Number(/bytes=(\d+)-/.exec(request.headers.range ?? "")?.[1] ?? 0);
      const data = Buffer.from(this.log).subarray(from);
      if (data.length === 0) response.writeHead(416).end();
      else response.writeHead(206, { "content-type": "text/plain" }).end(data);
    } else {
      json(404, { error: { code: "NotFound", message: `${request.method} ${url.pathname}` } });
    }
  }
}

const fakeClock = (): Clock & { sleeps: number[] } => {
  let now = Date.parse("2025-01-01T00:00:00Z");
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
};

/** The local builders must not be probed or run for an acr build. */
const noLocalTools: CommandRunner = {
  run: async (command) => {
    throw new Error(`${command} must not run`);
  },
};

function recordingLog(): BuildLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (line) => lines.push(line),
    error: (line) => lines.push(line),
    group: (_title, fn) => fn(),
  };
}

describe("acr builder (remote build through ARM)", () => {
  let dir: string;
  let fake: FakeAzure;
  let context: string;
  let tls: { key: string; cert: string; caPem: string };
  let trusting: ReturnType<typeof fetchTrusting>;

  beforeAll(async () => {
    const caDir = await mkdtemp(join(tmpdir(), "acr-build-ca-"));
    const ca = await createCertificateAuthority(caDir);
    tls = { ...(await ca.issue(["127.0.0.1"])), caPem: ca.caPem };
    await rm(caDir, { recursive: true, force: true });
    trusting = fetchTrusting(ca.caPem);
  });

  afterAll(() => trusting.close());

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "acr-build-test-"));
    context = join(dir, "app");
    await mkdir(join(context, "secrets"), { recursive: true });
    await writeFile(join(context, "Dockerfile"), "FROM scratch\nCOPY hello.txt /\n");
    await writeFile(join(context, "hello.txt"), "hello\n");
    await writeFile(join(context, "secrets", "key.pem"), "not for the build\n");
    await writeFile(join(context, "debug.log"), "left out\n");
    await writeFile(join(context, "keep.log"), "kept\n");
    await writeFile(join(context, ".dockerignore"), "secrets\n*.log\n!keep.log\n");
    fake = new FakeAzure();
    await fake.start(tls);
  });

  afterEach(async () => {
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function request(): BuildRequest {
    return {
      context,
      dockerfile: join(context, "Dockerfile"),
      buildArgs: { VERSION: "7" },
      registry: "myacr.azurecr.io",
      imageName: "web",
      tag: "v7",
      builder: "auto",
      auth: { kind: "entra" },
      source: "https://github.com/contoso/web",
      revision: "abc123",
    };
  }

  const azure = () => ({
    armEndpoint: fake.url,
    subscriptionId: SUBSCRIPTION,
    tenantId: "tenant",
    armToken: async () => ARM_TOKEN,
  });

  /** What the host gives an acr build, with the stand-in's CA trusted by the SDK and by fetch. */
  function deps(clock: Clock, log: BuildLog, fetchImpl: typeof fetch = trusting.fetch) {
    return {
      log,
      clock,
      run: noLocalTools,
      azure: azure(),
      fetch: fetchImpl,
      acrTasks: connectAcrTasks(azure(), {
        clock,
        fetch: fetchImpl,
        tlsOptions: { ca: tls.caPem },
      }),
    };
  }

  test("auto with no local builder builds in the registry and returns the run's output digest", async () => {
    const clock = fakeClock();
    const log = recordingLog();

    const result = await buildAndPush(request(), deps(clock, log));

    expect(result).toEqual({
      image: `myacr.azurecr.io/web@${DIGEST}`,
      digest: DIGEST,
      tag: "v7",
      builder: "acr",
    });
    expect(clock.sleeps[0]).toBe(3000);
    expect(log.lines).toEqual(
      expect.arrayContaining([
        "Step 1/2 : FROM scratch",
        "Step 2/2 : COPY hello.txt /",
        "Successfully pushed",
      ]),
    );

    const upload = fake.find("POST", "/listBuildSourceUploadUrl")!;
    expect(upload.query.get("api-version")).toBe("2019-06-01-preview");
    const schedule = fake.find("POST", "/scheduleRun")!;
    expect(schedule.query.get("api-version")).toBe("2019-06-01-preview");
    expect(JSON.parse(schedule.body.toString())).toEqual({
      type: "DockerBuildRequest",
      imageNames: ["web:v7"],
      isPushEnabled: true,
      noCache: false,
      dockerFilePath: "Dockerfile",
      arguments: [{ name: "VERSION", value: "7", isSecret: false }],
      platform: { os: "Linux", architecture: "amd64" },
      sourceLocation: "source/202501/ctx.tar.gz",
      timeout: 3600,
    });
  });

  test("uploads the context as a tar.gz that honours .dockerignore and labels the image", async () => {
    await buildAndPush(request(), deps(fakeClock(), recordingLog()));

    const upload = fake.find("PUT", "/blob/source/ctx.tar.gz")!;
    const archive = join(dir, "uploaded.tar.gz");
    await writeFile(archive, upload.body);
    const listed = execFileSync("tar", ["-tzf", archive], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .sort();
    expect(listed).toEqual([".dockerignore", "Dockerfile", "hello.txt", "keep.log"]);
    const extracted = join(dir, "extracted");
    await mkdir(extracted);
    execFileSync("tar", ["-xzf", archive, "-C", extracted]);
    const dockerfile = await readFile(join(extracted, "Dockerfile"), "utf8");
    expect(dockerfile).toBe(
      "FROM scratch\nCOPY hello.txt /\n" +
        'LABEL "org.opencontainers.image.source"="https://github.com/contoso/web" "org.opencontainers.image.revision"="abc123" ' +
        '"org.opencontainers.image.created"="2025-01-01T00:00:00.000Z"\n',
    );
  });

  test("a failed run rejects with the failing step, the build's last lines and ACR's error", async () => {
    fake.statuses = ["Running", "Failed"];
    fake.logChunks = [
      "Step 1/2 : FROM scratch\nStep 2/2 : RUN make\n",
      "make: *** No targets specified.  Stop.\nThe command '/bin/sh -c make' returned a non-zero code: 2\n",
    ];
    fake.runErrorMessage = "failed during run, err: exit status 1";

    const failure = buildAndPush(request(), deps(fakeClock(), recordingLog()));

    await expect(failure).rejects.toThrow(
      /ACR build run cb1 \(Failed\) failed at step "Step 2\/2 : RUN make"/,
    );
    await expect(failure).rejects.toThrow(/returned a non-zero code: 2/);
    await expect(failure).rejects.toThrow(/failed during run, err: exit status 1/);
  });

  test("a registry that is not in the subscription is named in the error", async () => {
    const failure = buildAndPush(
      { ...request(), registry: "elsewhere.azurecr.io", builder: "acr" },
      deps(fakeClock(), recordingLog()),
    );

    await expect(failure).rejects.toThrow(
      `Azure Container Registry elsewhere.azurecr.io was not found in subscription ${SUBSCRIPTION}`,
    );
  });

  test("when the run does not report the digest, reads it from the registry as the deployment identity", async () => {
    fake.reportDigest = false;
    // The registry's own endpoints are served by the stand-in under /acr.
    const routed = ((input: string | URL | Request, init?: RequestInit) =>
      trusting.fetch(
        String(input).replace("https://myacr.azurecr.io/", `${fake.url}/acr/`),
        init,
      )) as typeof fetch;

    const result = await buildAndPush(request(), deps(fakeClock(), recordingLog(), routed));

    expect(result.digest).toBe(DIGEST);
    expect(fake.find("POST", "/acr/oauth2/exchange")).toBeDefined();
    expect(fake.find("HEAD", "/acr/v2/web/manifests/v7")?.headers.accept).toContain(
      "application/vnd.oci.image.manifest.v1+json",
    );
  });

  test("a build cancelled while its run goes on asks ACR to cancel the run", async () => {
    fake.statuses = ["Running"];
    const controller = new AbortController();
    const clock = fakeClock();
    const sleep = clock.sleep;
    // The job is cancelled while the builder waits between two polls of the run.
    clock.sleep = async (ms, signal) => {
      if (fake.find("GET", `/runs/${RUN_ID}`))
        controller.abort(new Error("The job was cancelled."));
      await sleep(ms);
      if (signal?.aborted) throw signal.reason;
    };

    const failure = buildAndPush(request(), {
      ...deps(clock, recordingLog()),
      signal: controller.signal,
    });

    await expect(failure).rejects.toThrow("The job was cancelled.");
    for (let wait = 0; wait < 100 && !fake.find("POST", `/runs/${RUN_ID}/cancel`); wait++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const cancel = fake.find("POST", `/runs/${RUN_ID}/cancel`);
    expect(cancel?.query.get("api-version")).toBe("2019-06-01-preview");
    expect(cancel?.headers.authorization).toBe(`Bearer ${ARM_TOKEN}`);
  });
});
