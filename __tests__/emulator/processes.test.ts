import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { startRevisionProcess } from "../../emulator/processes.ts";
import type { RevisionProcess } from "../../emulator/contracts.ts";

interface Answer {
  status: number;
  revision: string | undefined;
  body: Record<string, unknown>;
}

function call(
  port: number,
  path = "/",
  options: { method?: string; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: options.method ?? "GET", agent: false },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            revision: res.headers["x-revision"] as string | undefined,
            body: JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

async function statuses(port: number, count: number, path = "/"): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < count; i++) result.push((await call(port, path)).status);
  return result;
}

/** Whether a process still runs (an exited, unreaped zombie counts as gone). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitUntilGone(pid: number, deadlineMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return !isRunning(pid);
}

const started: RevisionProcess[] = [];

async function start(image: string, revision = "web--blue"): Promise<RevisionProcess> {
  const revisionProcess = await startRevisionProcess({ app: "web", revision, image });
  started.push(revisionProcess);
  return revisionProcess;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((revisionProcess) => revisionProcess.stop()));
});

describe("revision processes", () => {
  it("serve every path with the revision's JSON, an x-revision header and a /healthz", async () => {
    const web = await start("emulator.test/app:healthy");
    expect(web.port).toBeGreaterThan(0);
    expect(web.exited).toBe(false);

    const root = await call(web.port, "/orders/42?verbose=1", { method: "POST", body: "hello" });
    expect(root.status).toBe(200);
    expect(root.revision).toBe("web--blue");
    expect(root.body).toMatchObject({
      app: "web",
      revision: "web--blue",
      image: "emulator.test/app:healthy",
      behaviour: "healthy",
      method: "POST",
      path: "/orders/42",
      query: "?verbose=1",
      bodyBytes: 5,
    });

    const health = await call(web.port, "/healthz");
    expect(health.status).toBe(200);
    expect(health.revision).toBe("web--blue");
    expect(health.body).toMatchObject({ status: "ok" });
  });

  it.each([
    "emulator.test/app:not-a-behaviour",
    "emulator.test/app:http500@sha256:0f3e8a7c9d1b2a4c6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d",
    "contoso.azurecr.io/web:http500",
    "emulator.test/app",
  ])("run %s as a healthy app", async (image) => {
    const web = await start(image);
    const answer = await call(web.port);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ behaviour: "healthy", image });
  });

  it("http500 answers every request, /healthz included, with 500", async () => {
    const web = await start("emulator.test/app:http500");
    expect(await statuses(web.port, 3)).toEqual([500, 500, 500]);
    const health = await call(web.port, "/healthz");
    expect(health).toMatchObject({ status: 500, revision: "web--blue" });
    expect(health.body).toMatchObject({ status: "unhealthy" });
  });

  it("slow-<ms> delays each answer by at least that long", async () => {
    const web = await start("emulator.test/app:slow-300");
    const before = performance.now();
    const answer = await call(web.port);
    expect(performance.now() - before).toBeGreaterThanOrEqual(290);
    expect(answer).toMatchObject({ status: 200, body: { behaviour: "slow-300" } });
  });

  it("crash exits before listening with a non-zero code and says why on stderr", async () => {
    await expect(
      startRevisionProcess({ app: "web", revision: "web--bad", image: "emulator.test/app:crash" }),
    ).rejects.toThrow(
      /Revision web--bad \(image emulator\.test\/app:crash\) exited with code 1 before listening: .*crashed/,
    );
  });

  it("unhealthy-after-<n> serves n requests, then fails everything with 500", async () => {
    const web = await start("emulator.test/app:unhealthy-after-3");
    expect(await statuses(web.port, 3)).toEqual([200, 200, 200]);
    expect((await call(web.port, "/healthz")).status).toBe(500);
    expect(await statuses(web.port, 2)).toEqual([500, 500]);
  });

  it("flaky-<percent> fails about that share of requests", async () => {
    const web = await start("emulator.test/app:flaky-30");
    const answers = await statuses(web.port, 300);
    const failures = answers.filter((status) => status === 500).length;
    // 90 expected; the bounds sit more than five standard deviations away.
    expect(failures).toBeGreaterThan(45);
    expect(failures).toBeLessThan(135);
    expect(answers.filter((status) => status !== 200 && status !== 500)).toEqual([]);
  });

  it("setBehaviour switches a running revision, and back", async () => {
    const web = await start("emulator.test/app:healthy");
    await web.setBehaviour("http500");
    expect(await call(web.port)).toMatchObject({ status: 500, body: { behaviour: "http500" } });
    await web.setBehaviour("unhealthy-after-1");
    expect(await statuses(web.port, 2, "/healthz")).toEqual([200, 500]);
    await web.setBehaviour("healthy");
    expect(await call(web.port)).toMatchObject({ status: 200, body: { behaviour: "healthy" } });
  });

  it("setBehaviour refuses a behaviour that does not exist", async () => {
    const web = await start("emulator.test/app:healthy");
    await expect(web.setBehaviour("teapot")).rejects.toThrow(/Unknown revision behaviour "teapot"/);
    expect((await call(web.port)).status).toBe(200);
  });

  it("reports a crash through onExit", async () => {
    const web = await start("emulator.test/app:healthy");
    const exitCode = new Promise<number | null>((resolve) => web.onExit(resolve));
    await web.setBehaviour("crash");
    await expect(exitCode).resolves.toBe(1);
    expect(web.exited).toBe(true);
    const late = new Promise<number | null>((resolve) => web.onExit(resolve));
    await expect(late).resolves.toBe(1);
    await expect(web.setBehaviour("healthy")).rejects.toThrow(/not running/);
  });

  it("stop() ends the process with SIGTERM, which it answers by shutting down, and resolves once it has exited", async () => {
    const web = await start("emulator.test/app:healthy");
    const pid = (await call(web.port)).body.pid as number;
    expect(isRunning(pid)).toBe(true);
    const exitCode = new Promise<number | null>((resolve) => web.onExit(resolve));
    await web.stop();
    expect(web.exited).toBe(true);
    expect(isRunning(pid)).toBe(false);
    await expect(exitCode).resolves.toBe(0);
    await web.stop();
  });

  it("a revision process does not outlive an emulator that is killed", async () => {
    const processesModule = new URL("../../emulator/processes.ts", import.meta.url).href;
    const emulatorScript = `
      import { startRevisionProcess } from ${JSON.stringify(processesModule)};
      const web = await startRevisionProcess({ app: "web", revision: "web--blue", image: "emulator.test/app:healthy" });
      const answer = await fetch("http://127.0.0.1:" + web.port + "/");
      console.log(JSON.stringify(await answer.json()));
    `;
    const emulator = spawn(process.execPath, ["--input-type=module", "-e", emulatorScript], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = (await once(createInterface({ input: emulator.stdout }), "line")) as [string];
    const { pid } = JSON.parse(line) as { pid: number };
    expect(isRunning(pid)).toBe(true);

    emulator.kill("SIGKILL");
    await expect(waitUntilGone(pid)).resolves.toBe(true);
  });
});
