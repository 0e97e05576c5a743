import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { createCertificateAuthority } from "../../emulator/ca.ts";
import { MAX_BODY_BYTES, createHttpProbe } from "../../src/azure/httpProbe.ts";
import type { HttpRequest } from "../../src/core/checks/run.ts";

const run = promisify(execFile);

function portOf(server: net.Server): number {
  return (server.address() as AddressInfo).port;
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return portOf(server);
}

async function close(server: net.Server): Promise<void> {
  if ("closeAllConnections" in server) (server as http.Server).closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const request = (url: string, fields: Partial<HttpRequest> = {}): HttpRequest => ({
  url,
  method: "GET",
  headers: {},
  timeoutMs: 5_000,
  ...fields,
});

describe("createHttpProbe over plain HTTP", () => {
  const probe = createHttpProbe();
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === "/hello") {
        res.setHeader("x-revision", "my-api--v2");
        res.end("hello");
      } else if (req.url === "/unavailable") {
        res.statusCode = 503;
        res.end("busy");
      } else if (req.url === "/moved") {
        res.statusCode = 302;
        res.setHeader("location", "/hello");
        res.end();
      } else if (req.url === "/echo") {
        let body = "";
        req.on("data", (chunk: Buffer) => (body += chunk.toString()));
        req.on("end", () =>
          res.end(JSON.stringify({ method: req.method, probe: req.headers["x-probe"], body })),
        );
      } else if (req.url === "/big") {
        res.end(Buffer.alloc(MAX_BODY_BYTES * 2, "a"));
      } else if (req.url === "/utf8") {
        res.end("grüße ✓");
      } else if (req.url === "/silent") {
        // Holds the request open without answering.
      }
    });
    base = `http://127.0.0.1:${await listen(server)}`;
  });

  afterAll(async () => {
    await close(server);
  });

  it("returns status, headers, body and latency", async () => {
    const outcome = await probe.send(request(`${base}/hello`));
    expect(outcome.status).toBe(200);
    expect(outcome.body).toBe("hello");
    expect(outcome.headers["x-revision"]).toBe("my-api--v2");
    expect(outcome.latencyMs).toBeGreaterThan(0);
    expect(outcome.latencyMs).toBeLessThan(5_000);
  });

  it("returns error statuses as responses, not failures", async () => {
    const outcome = await probe.send(request(`${base}/unavailable`));
    expect([outcome.status, outcome.body]).toEqual([503, "busy"]);
  });

  it("reports a redirect instead of following it", async () => {
    const outcome = await probe.send(request(`${base}/moved`));
    expect(outcome.status).toBe(302);
    expect(outcome.headers.location).toBe("/hello");
  });

  it("sends method, headers and body", async () => {
    const outcome = await probe.send(
      request(`${base}/echo`, { method: "POST", headers: { "X-Probe": "yes" }, body: "{}" }),
    );
    expect(JSON.parse(outcome.body)).toEqual({ method: "POST", probe: "yes", body: "{}" });
  });

  it("decodes UTF-8 bodies", async () => {
    expect((await probe.send(request(`${base}/utf8`))).body).toBe("grüße ✓");
  });

  it("keeps at most 1 MiB of a body", async () => {
    const outcome = await probe.send(request(`${base}/big`));
    expect(outcome.status).toBe(200);
    expect(outcome.body.length).toBe(MAX_BODY_BYTES);
  });

  it("gives up at the request timeout", async () => {
    await expect(probe.send(request(`${base}/silent`, { timeoutMs: 200 }))).rejects.toThrow(
      "no complete response within 200 ms",
    );
  });

  it("stops when the caller's signal aborts", async () => {
    const controller = new AbortController();
    const sent = probe.send(request(`${base}/silent`, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    await expect(sent).rejects.toThrow("request cancelled");
  });

  it("says when the connection is refused", async () => {
    const spare = net.createServer();
    const port = await listen(spare);
    await close(spare);
    await expect(probe.send(request(`http://127.0.0.1:${port}/`))).rejects.toThrow(
      "connection refused (ECONNREFUSED)",
    );
  });
});

interface TestProxy {
  port: number;
  /** `host:port` of every CONNECT tunnel asked for. */
  tunnels: string[];
  /** Absolute URLs of the requests sent to the proxy in clear (forward-proxy style). */
  forwarded: string[];
  close(): Promise<void>;
}

/** An HTTP proxy that tunnels CONNECT and forwards absolute-form requests, recording both. */
async function startProxy(): Promise<TestProxy> {
  const tunnels: string[] = [];
  const forwarded: string[] = [];
  const sockets = new Set<net.Socket>();
  const proxy = http.createServer((req, res) => {
    forwarded.push(req.url ?? "");
    const upstream = http.request(
      req.url ?? "",
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  proxy.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(req.url ?? "");
    const [host, port] = (req.url ?? "").split(":");
    const upstream = net.connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    sockets.add(client).add(upstream);
  });
  const port = await listen(proxy);
  return {
    port,
    tunnels,
    forwarded,
    close: async () => {
      // Tunnelled sockets have left the server's bookkeeping: close() would wait for them.
      for (const socket of sockets) socket.destroy();
      await close(proxy);
    },
  };
}

const PROXY_VARIABLES = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "NO_PROXY",
  "no_proxy",
];

describe("createHttpProbe through a proxy", () => {
  const saved = { ...process.env };
  let target: http.Server;
  let targetPort: number;
  let proxy: TestProxy;

  beforeAll(async () => {
    target = http.createServer((_req, res) => res.end("through"));
    targetPort = await listen(target);
    proxy = await startProxy();
  });

  beforeEach(() => {
    for (const name of PROXY_VARIABLES) delete process.env[name];
    proxy.tunnels.length = 0;
    proxy.forwarded.length = 0;
  });

  afterEach(() => {
    for (const name of PROXY_VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  afterAll(async () => {
    await close(target);
    await proxy.close();
  });

  it("routes plain http requests through HTTP_PROXY", async () => {
    process.env.HTTP_PROXY = `http://127.0.0.1:${proxy.port}`;
    const outcome = await createHttpProbe().send(request(`http://127.0.0.1:${targetPort}/`));
    expect(outcome.body).toBe("through");
    expect(proxy.forwarded).toEqual([`http://127.0.0.1:${targetPort}/`]);
  });

  it("goes direct for hosts in no_proxy", async () => {
    process.env.http_proxy = `http://127.0.0.1:${proxy.port}`;
    process.env.no_proxy = "127.0.0.1";
    const outcome = await createHttpProbe().send(request(`http://127.0.0.1:${targetPort}/`));
    expect(outcome.body).toBe("through");
    expect([...proxy.tunnels, ...proxy.forwarded]).toEqual([]);
  });
});

describe("createHttpProbe over HTTPS with a private CA", () => {
  let dir: string;
  let caFile: string;
  let server: https.Server;
  let url: string;
  let proxy: TestProxy;
  const paths: string[] = [];
  const probeModule = fileURLToPath(new URL("../../src/azure/httpProbe.ts", import.meta.url));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "probe-ca-"));
    const ca = await createCertificateAuthority(dir);
    caFile = ca.caFile;
    const leaf = await ca.issue(["localhost", "127.0.0.1"]);
    server = https.createServer({ cert: leaf.cert, key: leaf.key }, (req, res) => {
      paths.push(req.url ?? "");
      res.end("secure");
    });
    url = `https://127.0.0.1:${await listen(server)}/health?token=s3cret`;
    proxy = await startProxy();
  });

  afterAll(async () => {
    await close(server);
    await proxy.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** NODE_EXTRA_CA_CERTS is read when a process starts, so each case runs in a fresh process. */
  async function probeInChild(env: Record<string, string | undefined>): Promise<string> {
    const script = `
      import { createHttpProbe } from ${JSON.stringify(probeModule)};
      try {
        const outcome = await createHttpProbe().send({ url: ${JSON.stringify(url)}, method: "GET", headers: {}, timeoutMs: 10000 });
        console.log(outcome.status + " " + outcome.body);
      } catch (error) {
        console.log(error.message);
      }`;
    const childEnv: NodeJS.ProcessEnv = { ...process.env };
    for (const name of [...PROXY_VARIABLES, "NODE_EXTRA_CA_CERTS"]) delete childEnv[name];
    for (const [name, value] of Object.entries(env))
      if (value !== undefined) childEnv[name] = value;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      env: childEnv,
      timeout: 30_000,
    });
    return stdout.trim();
  }

  it("trusts the CA named by NODE_EXTRA_CA_CERTS", async () => {
    expect(await probeInChild({ NODE_EXTRA_CA_CERTS: caFile })).toBe("200 secure");
  });

  it("refuses a certificate from an unknown CA and says how to trust it", async () => {
    const message = await probeInChild({});
    expect(message).toContain("TLS certificate issuer is not trusted");
    expect(message).toContain("set NODE_EXTRA_CA_CERTS to a PEM file with the issuing CA");
  });

  it("tunnels https through HTTPS_PROXY with CONNECT, so the proxy never sees the request", async () => {
    proxy.tunnels.length = 0;
    proxy.forwarded.length = 0;
    paths.length = 0;
    const outcome = await probeInChild({
      NODE_EXTRA_CA_CERTS: caFile,
      HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`,
    });
    expect(outcome).toBe("200 secure");
    expect(proxy.tunnels).toEqual([new URL(url).host]);
    expect(proxy.forwarded).toEqual([]);
    expect(paths).toEqual(["/health?token=s3cret"]);
  });
});
