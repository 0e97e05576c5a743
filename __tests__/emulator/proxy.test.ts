import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createHttpServer, request as httpRequest, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProxyAgent, request } from "undici";
import { createCertificateAuthority } from "../../emulator/ca.ts";
import type { CertificateAuthority, RunningServer } from "../../emulator/contracts.ts";
import { startProxy } from "../../emulator/proxy.ts";

const domain = "blue-sea.azurecontainerapps.test";

let dir: string;
let ca: CertificateAuthority;
/** Stands in for the ingress: answers with the name of the server and the Host it was asked for. */
let ingress: Server;
/** Stands in for the emulator's ARM endpoint on a loopback address. */
let arm: Server;
/** A plain-HTTP loopback service, like the emulator's control API. */
let control: Server;
let proxy: RunningServer & { url: string };
let dispatcher: ProxyAgent;

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

async function listen(server: Server): Promise<Server> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

function echo(name: string) {
  return (req: { headers: { host?: string }; url?: string }, res: { end(body: string): void }) =>
    res.end(`${name} ${req.headers.host} ${req.url}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "aca-proxy-"));
  ca = await createCertificateAuthority(dir);
  const ingressCert = await ca.issue([`*.${domain}`]);
  const armCert = await ca.issue(["127.0.0.1", "localhost"]);
  ingress = await listen(createHttpsServer(ingressCert, echo("ingress")));
  arm = await listen(createHttpsServer(armCert, echo("arm")));
  control = await listen(createHttpServer(echo("control")));
  proxy = await startProxy({
    ingressPort: portOf(ingress),
    isIngressHost: (host) => host === domain || host.endsWith(`.${domain}`),
  });
  dispatcher = new ProxyAgent({ uri: proxy.url, requestTls: { ca: ca.caPem } });
});

afterAll(async () => {
  await dispatcher?.close();
  await proxy?.stop();
  for (const server of [ingress, arm, control]) server?.closeAllConnections();
  await Promise.all(
    [ingress, arm, control].map((server) => new Promise((resolve) => server?.close(resolve))),
  );
  await rm(dir, { recursive: true, force: true });
});

async function viaProxy(url: string): Promise<{ status: number; text: string }> {
  const response = await request(url, { dispatcher });
  return { status: response.statusCode, text: await response.body.text() };
}

/** Sends one raw request to the proxy and returns the status line's code and the body. */
function rawProxyRequest(
  method: string,
  target: string,
): Promise<{ status: number; location?: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: "127.0.0.1",
      port: proxy.port,
      method,
      path: target,
      headers: { host: target.replace(/^http:\/\//, "").split("/")[0] },
      agent: false,
    });
    req.on("connect", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, text: "" });
    });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, location: res.headers.location, text }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("emulator proxy", () => {
  it("listens on loopback", () => {
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`);
  });

  it("tunnels CONNECT for an environment hostname to the ingress, whatever the port", async () => {
    await expect(viaProxy(`https://web.${domain}/a`)).resolves.toEqual({
      status: 200,
      text: `ingress web.${domain} /a`,
    });
    await expect(viaProxy(`https://web---green.${domain}:8443/b`)).resolves.toEqual({
      status: 200,
      text: `ingress web---green.${domain}:8443 /b`,
    });
  });

  it("tunnels CONNECT for loopback addresses to the address itself", async () => {
    const port = portOf(arm);
    await expect(viaProxy(`https://127.0.0.1:${port}/subscriptions`)).resolves.toEqual({
      status: 200,
      text: `arm 127.0.0.1:${port} /subscriptions`,
    });
    await expect(viaProxy(`https://localhost:${port}/tenant`)).resolves.toEqual({
      status: 200,
      text: `arm localhost:${port} /tenant`,
    });
  });

  it("refuses to reach any host that is neither an app hostname nor loopback", async () => {
    await expect(rawProxyRequest("CONNECT", "management.azure.com:443")).resolves.toMatchObject({
      status: 403,
    });
    await expect(rawProxyRequest("CONNECT", "10.0.0.1:443")).resolves.toMatchObject({
      status: 403,
    });
    await expect(viaProxy("https://login.microsoftonline.com/")).rejects.toThrow(/403/);
    await expect(rawProxyRequest("GET", "http://example.com/")).resolves.toMatchObject({
      status: 403,
    });
  });

  it("rejects a CONNECT without a port", async () => {
    await expect(rawProxyRequest("CONNECT", `web.${domain}`)).resolves.toMatchObject({
      status: 400,
    });
  });

  it("redirects plain HTTP for an app hostname to HTTPS, as ACA does", async () => {
    await expect(
      rawProxyRequest("GET", `http://web.${domain}/health?full=1`),
    ).resolves.toMatchObject({
      status: 301,
      location: `https://web.${domain}/health?full=1`,
    });
  });

  it("forwards plain HTTP for a loopback address", async () => {
    const port = portOf(control);
    await expect(
      rawProxyRequest("GET", `http://127.0.0.1:${port}/control/apps`),
    ).resolves.toMatchObject({ status: 200, text: `control 127.0.0.1:${port} /control/apps` });
  });

  it("answers 400 to a request that is not addressed to a proxy", async () => {
    await expect(rawProxyRequest("GET", "/")).resolves.toMatchObject({ status: 400 });
  });

  it("answers 502 when a loopback destination refuses the connection", async () => {
    const closed = await listen(createHttpServer());
    const port = portOf(closed);
    await new Promise((resolve) => closed.close(resolve));
    await expect(rawProxyRequest("CONNECT", `127.0.0.1:${port}`)).resolves.toMatchObject({
      status: 502,
    });
  });

  it("stops promptly while a tunnel is still open", async () => {
    const own = await startProxy({ ingressPort: portOf(ingress), isIngressHost: () => true });
    const agent = new ProxyAgent({ uri: own.url, requestTls: { ca: ca.caPem } });
    const response = await request(`https://web.${domain}/`, { dispatcher: agent });
    await response.body.text();
    // The agent keeps its tunnel open; stopping must cut it rather than wait for it.
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<string>((resolve) => (timer = setTimeout(resolve, 5_000, "stuck")));
    const stopped = own.stop().then(() => "stopped");
    await expect(Promise.race([stopped, stuck])).resolves.toBe("stopped");
    clearTimeout(timer);
    await agent.destroy();
    const refused = new Promise((resolve, reject) =>
      connect({ host: "127.0.0.1", port: own.port }).on("connect", resolve).on("error", reject),
    );
    await expect(refused).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });
});
