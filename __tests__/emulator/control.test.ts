/**
 * The control API route by route against the programmatic `Emulator` it mirrors, and
 * `npm run emulator` (emulator/cli.ts) as a foreground process: its JSON first line, its banner,
 * and a clean stop on SIGINT / SIGTERM that leaves no revision process behind.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fetch, ProxyAgent } from "undici";
import { startEmulator, type Emulator, type EmulatorInfo } from "../../emulator/index.ts";
import { armRequest, caOf, eventually } from "./support.ts";

const root = resolve(import.meta.dirname, "../..");

describe("control API", () => {
  let emulator: Emulator;
  let proxy: ProxyAgent;

  beforeAll(async () => {
    emulator = await startEmulator({ operationDelayMs: 0, provisioningDelayMs: 0 });
    proxy = new ProxyAgent({ uri: emulator.info.proxy, requestTls: { ca: caOf(emulator.info) } });
  });

  afterAll(async () => {
    await proxy.close();
    await emulator.stop();
  });

  async function control(method: string, path: string, body?: unknown) {
    const response = await fetch(`${emulator.info.control}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }

  it("serves the info, seeds an app and reads it back as getApp does", async () => {
    expect(await control("GET", "/info")).toEqual({ status: 200, body: emulator.info });
    const seeded = await control("POST", "/seed", {
      resourceGroup: "rg-ctl",
      environment: "env-ctl",
      app: "web",
      revisions: [
        { suffix: "v1", image: "emulator.test/app:healthy" },
        { suffix: "v2", image: "emulator.test/app:healthy" },
      ],
      traffic: [
        { revisionName: "web--v1", weight: 100, label: "blue" },
        { revisionName: "web--v2", weight: 0, label: "green" },
      ],
      tags: { owner: "shop" },
    });
    expect(seeded.status).toBe(201);
    expect(seeded.body).toMatchObject({
      name: "web",
      activeRevisionsMode: "Multiple",
      latestRevisionName: "web--v2",
      tags: { owner: "shop" },
      revisions: [
        { name: "web--v1", active: true, runningState: "Running", trafficWeight: 100 },
        { name: "web--v2", active: true, runningState: "Running", trafficWeight: 0 },
      ],
    });
    expect(await control("GET", "/apps/rg-ctl/web")).toEqual({
      status: 200,
      body: emulator.getApp("rg-ctl", "web"),
    });
    expect((await control("GET", "/apps/rg-ctl/nope")).status).toBe(404);
  });

  it("sets traffic as someone else would, validated like an ARM write", async () => {
    const moved = await control("PUT", "/apps/rg-ctl/web/traffic", [
      { revisionName: "web--v1", weight: 50, label: "blue" },
      { revisionName: "web--v2", weight: 50, label: "green" },
    ]);
    expect(moved.status).toBe(200);
    expect(emulator.getApp("rg-ctl", "web").revisions.map((r) => r.trafficWeight)).toEqual([
      50, 50,
    ]);

    const refused = await control("PUT", "/apps/rg-ctl/web/traffic", [
      { revisionName: "web--v1", weight: 60 },
    ]);
    expect(refused).toEqual({
      status: 400,
      body: { error: { code: "ContainerAppInvalidTrafficWeight", message: expect.any(String) } },
    });
  });

  it("switches a running revision's behaviour, which its label URL then shows", async () => {
    const domain = emulator.getApp("rg-ctl", "web").fqdn.slice("web.".length);
    const answer = await control("PUT", "/apps/rg-ctl/web/revisions/web--v2/behaviour", {
      behaviour: "http500",
    });
    expect(answer.status).toBe(204);
    const response = await fetch(`https://web---green.${domain}/`, { dispatcher: proxy });
    await response.text();
    expect(response.status).toBe(500);
    expect(response.headers.get("x-revision")).toBe("web--v2");

    const unknown = await control("PUT", "/apps/rg-ctl/web/revisions/web--v2/behaviour", {
      behaviour: "sing",
    });
    expect(unknown.status).toBe(400);
  });

  it("injects and clears faults, and reads and clears the journals", async () => {
    const appPath = `/subscriptions/${emulator.info.subscriptionId}/resourceGroups/rg-ctl/providers/Microsoft.App/containerApps/web`;
    const get = () => armRequest(emulator.info, "GET", `${appPath}?api-version=2026-07-01`);
    const fault = { kind: "status", status: 503, count: 2, match: { pathContains: "/web" } };
    expect((await control("POST", "/faults/arm", fault)).status).toBe(204);
    expect((await get()).status).toBe(503);
    expect((await control("DELETE", "/faults")).status).toBe(204);
    expect((await get()).status).toBe(200);
    expect((await control("POST", "/faults/arm", { ...fault, status: 404 })).status).toBe(400);
    expect(
      (await control("POST", "/faults/revision", { app: "web", mode: "never-ready" })).status,
    ).toBe(204);

    const arm = await control("GET", "/journal/arm");
    expect(arm.body).toEqual(emulator.armJournal());
    expect(arm.body).toEqual([
      expect.objectContaining({ method: "GET", path: appPath, status: 503, fault: "503" }),
      expect.objectContaining({ method: "GET", path: appPath, status: 200 }),
    ]);
    const ingress = await control("GET", "/journal/ingress");
    expect(ingress.body).toEqual(emulator.ingressJournal());
    expect(ingress.body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ route: "label", revision: "web--v2", status: 500 }),
      ]),
    );
    expect((await control("DELETE", "/journal")).status).toBe(204);
    expect((await control("GET", "/journal/ingress")).body).toEqual([]);
    expect((await control("GET", "/journal/arm")).body).toEqual([]);
  });

  it("answers 404 for unknown routes and 405 for known ones with another method", async () => {
    expect((await control("GET", "/nothing")).status).toBe(404);
    expect((await control("DELETE", "/info")).status).toBe(405);
  });

  it("stops the emulator on POST /stop, removing the temporary folder it made", async () => {
    expect((await control("POST", "/stop")).status).toBe(202);
    await eventually(async () => {
      try {
        await fetch(`${emulator.info.control}/info`);
        return undefined;
      } catch {
        return true;
      }
    });
    await eventually(() => (existsSync(dirname(emulator.info.caFile)) ? undefined : true));
  });
});

describe("npm run emulator", () => {
  const started: ChildProcess[] = [];

  afterEach(() => {
    for (const child of started.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  });

  function runCli(args: string[]) {
    const child = spawn(process.execPath, [join(root, "emulator/cli.ts"), ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    started.push(child);
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const exited = new Promise<number | null>((resolveExit) => child.once("exit", resolveExit));
    return { child, lines, exited };
  }

  function childrenOf(pid: number): number[] {
    try {
      return execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
        .split("\n")
        .map((line) => Number(line.trim()))
        .filter((child) => child > 0);
    } catch {
      return [];
    }
  }

  function isRunning(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  it("prints EmulatorInfo as its first line with --json and stops on SIGTERM, revision processes included", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "aca-emulator-cli-"));
    try {
      const { child, lines, exited } = runCli([
        "--json",
        "--data-dir",
        dataDir,
        "--provisioning-delay-ms",
        "0",
      ]);
      const first = await lines.next();
      const info = JSON.parse(String(first.value)) as EmulatorInfo;
      expect(Object.keys(info).sort()).toEqual(
        [
          "adoAccessToken",
          "adoOidcUrl",
          "adoServiceConnectionId",
          "arm",
          "authorityHost",
          "caFile",
          "clientId",
          "clientSecret",
          "control",
          "githubOidcToken",
          "githubOidcUrl",
          "location",
          "logStream",
          "proxy",
          "subscriptionId",
          "tenantId",
          "timing",
        ].sort(),
      );
      expect(info.caFile).toBe(join(dataDir, "ca.pem"));
      expect(info.timing).toEqual({ profile: "fast", timeScale: 1 });

      const seeded = await fetch(`${info.control}/seed`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          resourceGroup: "rg",
          environment: "env",
          app: "web",
          revisions: [
            { suffix: "v1", image: "emulator.test/app:healthy" },
            { suffix: "v2", image: "emulator.test/app:healthy" },
          ],
        }),
      });
      expect(seeded.status).toBe(201);
      const revisionProcesses = childrenOf(child.pid!);
      expect(revisionProcesses).toHaveLength(2);

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(revisionProcesses.filter(isRunning)).toEqual([]);
      // A folder the user chose is theirs to keep.
      expect(await readFile(info.caFile, "utf8")).toContain("BEGIN CERTIFICATE");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("runs the azure timing profile scaled with --timing and --time-scale, and refuses bad values", async () => {
    const { child, lines, exited } = runCli([
      "--json",
      "--timing",
      "azure",
      "--time-scale",
      "0.05",
      "--seed",
      "7",
    ]);
    const info = JSON.parse(String((await lines.next()).value)) as EmulatorInfo;
    expect(info.timing).toEqual({ profile: "azure", timeScale: 0.05 });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);

    for (const [args, message] of [
      [["--timing", "slow"], '--timing takes "fast" or "azure"'],
      [["--time-scale", "0"], "--time-scale takes a positive number"],
      [
        ["--timing", "azure", "--operation-delay-ms", "5"],
        "operationDelayMs sets the fast profile",
      ],
    ] as const) {
      const run = runCli([...args]);
      let stderr = "";
      run.child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      expect(await run.exited).toBe(2);
      expect(stderr).toContain(message);
    }
  });

  it("prints a banner for people and stops on SIGINT", async () => {
    const { child, lines, exited } = runCli([]);
    const banner: string[] = [];
    for (;;) {
      const line = await lines.next();
      if (line.done) break;
      banner.push(String(line.value));
      if (String(line.value).includes("Ctrl+C")) break;
    }
    const text = banner.join("\n");
    expect(text).toContain("Azure Container Apps emulator is running.");
    expect(text).toMatch(/ARM endpoint\s+https:\/\/127\.0\.0\.1:\d+/);
    expect(text).toMatch(/NODE_EXTRA_CA_CERTS=\S+ca\.pem/);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });
});
