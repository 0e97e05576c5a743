import { mkdtemp, rm } from "node:fs/promises";
import { Agent, request as httpsRequest } from "node:https";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProxyAgent, request } from "undici";
import { createCertificateAuthority } from "../../emulator/ca.ts";
import type {
  CertificateAuthority,
  RevisionProcess,
  Route,
  RoutingTable,
  RunningServer,
} from "../../emulator/contracts.ts";
import { startIngress } from "../../emulator/ingress.ts";
import { startRevisionProcess } from "../../emulator/processes.ts";
import { startProxy } from "../../emulator/proxy.ts";
import type { IngressJournalEntry } from "../../emulator/types.ts";

const domain = "blue-sea.azurecontainerapps.test";

let dir: string;
let ca: CertificateAuthority;
let blue: RevisionProcess;
let green: RevisionProcess;
let ingress: RunningServer;
let proxy: RunningServer & { url: string };
let dispatcher: ProxyAgent;
let closedPort: number;
const routes = new Map<string, Route>();
const journal: IngressJournalEntry[] = [];

const routing: RoutingTable = {
  resolve: (host) => routes.get(host) ?? { kind: "unknown" },
  isIngressHost: (host) => host === domain || host.endsWith(`.${domain}`),
};

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "aca-ingress-"));
  ca = await createCertificateAuthority(dir);
  [blue, green] = await Promise.all([
    startRevisionProcess({ app: "web", revision: "web--blue", image: "emulator.test/app:healthy" }),
    startRevisionProcess({ app: "web", revision: "web--green", image: "emulator.test/app:v2" }),
  ]);
  closedPort = await unusedPort();
  ingress = await startIngress({ ca, routing, record: (entry) => journal.push(entry) });
  proxy = await startProxy({ ingressPort: ingress.port, isIngressHost: routing.isIngressHost });
  dispatcher = new ProxyAgent({ uri: proxy.url, requestTls: { ca: ca.caPem } });
});

afterAll(async () => {
  await dispatcher?.close();
  await proxy?.stop();
  await ingress?.stop();
  await Promise.all([blue?.stop(), green?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  routes.clear();
  journal.length = 0;
  routes.set(`web.${domain}`, {
    kind: "app",
    targets: [
      { revision: "web--blue", weight: 80, port: blue.port },
      { revision: "web--green", weight: 20, port: green.port },
    ],
  });
  routes.set(`web---staging.${domain}`, {
    kind: "label",
    targets: [{ revision: "web--green", weight: 20, port: green.port }],
  });
  routes.set(`web--blue.${domain}`, {
    kind: "revision",
    targets: [{ revision: "web--blue", weight: 80, port: blue.port }],
  });
});

interface Answer {
  status: number;
  revision: string | undefined;
  text: string;
}

async function get(url: string, init: { method?: "GET" | "POST"; body?: string } = {}) {
  const response = await request(url, { dispatcher, method: init.method, body: init.body });
  const text = await response.body.text();
  const revision = response.headers["x-revision"] as string | undefined;
  return { status: response.statusCode, revision, text, headers: response.headers };
}

async function many(url: string, count: number, parallel = 8): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      answers.push(await get(url));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return answers;
}

function countBy(answers: Answer[], revision: string): number {
  return answers.filter((answer) => answer.revision === revision).length;
}

/** Journal entries are written when a response finishes, which may trail the client by a tick. */
async function journalOf(count: number): Promise<IngressJournalEntry[]> {
  const deadline = Date.now() + 5_000;
  while (journal.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return [...journal];
}

describe("ingress behind the proxy", () => {
  it("serves an app hostname over TLS from a real revision process and journals it", async () => {
    const before = Date.now();
    routes.set(`web.${domain}`, {
      kind: "app",
      targets: [{ revision: "web--blue", weight: 100, port: blue.port }],
    });
    const answer = await get(`https://web.${domain}/orders?id=7`);

    expect(answer.status).toBe(200);
    expect(answer.revision).toBe("web--blue");
    expect(JSON.parse(answer.text)).toMatchObject({
      app: "web",
      revision: "web--blue",
      image: "emulator.test/app:healthy",
      method: "GET",
      path: "/orders",
      query: "?id=7",
      host: `web.${domain}`,
    });
    const [entry] = await journalOf(1);
    expect(entry).toEqual({
      time: expect.any(Number),
      host: `web.${domain}`,
      path: "/orders",
      route: "app",
      revision: "web--blue",
      status: 200,
    });
    expect(entry.time).toBeGreaterThanOrEqual(before);
  });

  it("splits an app's traffic by weight", async () => {
    const answers = await many(`https://web.${domain}/`, 400);

    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const blueShare = countBy(answers, "web--blue");
    // 320 expected; the bounds sit five standard deviations away.
    expect(blueShare).toBeGreaterThan(280);
    expect(blueShare).toBeLessThan(360);
    expect(countBy(answers, "web--green")).toBe(400 - blueShare);
    const entries = await journalOf(400);
    expect(entries.filter((entry) => entry.revision === "web--blue")).toHaveLength(blueShare);
    expect(entries.every((entry) => entry.route === "app")).toBe(true);
  });

  it("sends a label hostname only to the labelled revision", async () => {
    const answers = await many(`https://web---staging.${domain}/`, 20);
    expect(countBy(answers, "web--green")).toBe(20);
    const entries = await journalOf(20);
    expect(entries.map((entry) => [entry.route, entry.revision])).toEqual(
      Array(20).fill(["label", "web--green"]),
    );
  });

  it("sends a revision hostname only to that revision", async () => {
    const answers = await many(`https://web--blue.${domain}/`, 20);
    expect(countBy(answers, "web--blue")).toBe(20);
    const entries = await journalOf(20);
    expect(entries.map((entry) => [entry.route, entry.revision])).toEqual(
      Array(20).fill(["revision", "web--blue"]),
    );
  });

  it("serves internal hostnames with a certificate for their own wildcard", async () => {
    routes.set(`web.internal.${domain}`, {
      kind: "app",
      targets: [{ revision: "web--green", weight: 100, port: green.port }],
    });
    const answer = await get(`https://web.internal.${domain}/`);
    expect(answer).toMatchObject({ status: 200, revision: "web--green" });
  });

  it("forwards the method and body, and passes the revision's error status through", async () => {
    const posted = await get(`https://web---staging.${domain}/submit`, {
      method: "POST",
      body: "x".repeat(1000),
    });
    expect(JSON.parse(posted.text)).toMatchObject({ method: "POST", bodyBytes: 1000 });

    await green.setBehaviour("http500");
    try {
      const failed = await get(`https://web---staging.${domain}/`);
      expect(failed).toMatchObject({ status: 500, revision: "web--green" });
    } finally {
      await green.setBehaviour("healthy");
    }
    const entries = await journalOf(2);
    expect(entries.map((entry) => [entry.path, entry.revision, entry.status])).toEqual([
      ["/submit", "web--green", 200],
      ["/", "web--green", 500],
    ]);
  });

  it("answers 404 'stopped or does not exist' for a revision that is not running", async () => {
    routes.set(`web---old.${domain}`, {
      kind: "label",
      targets: [{ revision: "web--old", weight: 0 }],
    });
    const answer = await get(`https://web---old.${domain}/`);

    expect(answer.status).toBe(404);
    expect(answer.revision).toBeUndefined();
    expect(answer.text).toContain("This Container App is stopped or does not exist.");
    expect(await journalOf(1)).toEqual([
      expect.objectContaining({
        host: `web---old.${domain}`,
        route: "label",
        revision: null,
        status: 404,
      }),
    ]);
  });

  it("fails the share of app traffic weighted to a revision that is not running", async () => {
    routes.set(`web.${domain}`, {
      kind: "app",
      targets: [
        { revision: "web--blue", weight: 50, port: blue.port },
        { revision: "web--old", weight: 50 },
      ],
    });
    const answers = await many(`https://web.${domain}/`, 60);
    const failed = answers.filter((answer) => answer.status === 404).length;
    expect(failed).toBeGreaterThan(0);
    expect(countBy(answers, "web--blue")).toBe(60 - failed);
  });

  it("answers 404 for a hostname no app owns, without journaling it", async () => {
    const answer = await get(`https://nothing-here.${domain}/`);
    expect(answer.status).toBe(404);
    expect(answer.text).toContain("This Container App is stopped or does not exist.");
    // A routed request afterwards is the only entry: the unknown host left none behind.
    await get(`https://web---staging.${domain}/`);
    expect((await journalOf(1)).map((entry) => entry.host)).toEqual([`web---staging.${domain}`]);
  });

  it("answers 502 when the revision's process cannot be reached", async () => {
    routes.set(`web--gone.${domain}`, {
      kind: "revision",
      targets: [{ revision: "web--gone", weight: 0, port: closedPort }],
    });
    const answer = await get(`https://web--gone.${domain}/`);
    expect(answer.status).toBe(502);
    expect(await journalOf(1)).toEqual([
      expect.objectContaining({ route: "revision", revision: null, status: 502 }),
    ]);
  });
});

describe("ingress lifecycle", () => {
  it("answers TLS clients that connect directly, and stops promptly with connections open", async () => {
    const own = await startIngress({ ca, routing, record: () => undefined });
    const agent = new Agent({ keepAlive: true, ca: ca.caPem });
    const answer = await new Promise<{ status: number; revision: unknown }>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: "127.0.0.1",
          port: own.port,
          servername: `web---staging.${domain}`,
          headers: { host: `web---staging.${domain}` },
          agent,
        },
        (res) => {
          res.resume();
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, revision: res.headers["x-revision"] }),
          );
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(answer).toEqual({ status: 200, revision: "web--green" });

    // The agent keeps the connection alive; stopping must cut it rather than wait for it.
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<string>((resolve) => (timer = setTimeout(resolve, 5_000, "stuck")));
    const stopped = own.stop().then(() => "stopped");
    await expect(Promise.race([stopped, stuck])).resolves.toBe("stopped");
    clearTimeout(timer);
    agent.destroy();
  });
});
