/**
 * The ACR login without an admin user, end to end: an Azure access token is exchanged for an ACR
 * refresh token, buildah logs in with it and pushes to a registry in token-auth mode whose token
 * server speaks ACR's protocol.
 */
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAcrTokenServer, type AcrTokenServer } from "../../emulator/acrTokenServer.ts";
import { createCertificateAuthority } from "../../emulator/ca.ts";
import { buildAndPush } from "../../src/image/buildAndPush.ts";
import type { AzureAccess, BuildLog, BuildRequest } from "../../src/image/types.ts";
import {
  fetchTrusting,
  freePort,
  missingTools,
  registryDigest,
  startLocalRegistry,
  writeContext,
  type LocalRegistry,
} from "./localRegistry.ts";

const missing = missingTools();
if (missing.length > 0) {
  console.warn(
    `Skipping the ACR login tests: ${missing.join(" and ")} not installed (apt-get install buildah docker-registry).`,
  );
}
const describeWithTools = missing.length === 0 ? describe : describe.skip;

const ARM_TOKEN = "arm-access-token-for-the-deployment-identity";
const ZERO_USER = "00000000-0000-0000-0000-000000000000";

const silentLog: BuildLog & { lines: string[] } = {
  lines: [],
  info(line) {
    this.lines.push(line);
  },
  error(line) {
    this.lines.push(line);
  },
  group: (_title, fn) => fn(),
};

describeWithTools("ACR login with an Entra ID token, against a registry in token-auth mode", () => {
  let dir: string;
  let tokenServer: AcrTokenServer;
  let registry: LocalRegistry;
  let certDir: string;
  let trusting: ReturnType<typeof fetchTrusting>;
  let context: string;
  let leafPem: { cert: string; key: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "acr-login-test-"));
    const ca = await createCertificateAuthority(join(dir, "ca"));
    const leaf = await ca.issue(["127.0.0.1"]);
    leafPem = leaf;
    certDir = join(dir, "certs");
    await mkdir(certDir);
    await writeFile(join(certDir, "ca.crt"), ca.caPem);
    trusting = fetchTrusting(ca.caPem);
    const port = await freePort();
    tokenServer = await startAcrTokenServer({
      key: leaf.key,
      cert: leaf.cert,
      service: `127.0.0.1:${port}`,
      verifyAccessToken: (token) => token === ARM_TOKEN,
    });
    registry = await startLocalRegistry({
      dir: join(dir, "registry"),
      port,
      cert: leaf.cert,
      key: leaf.key,
      caPem: ca.caPem,
      auth: {
        token: {
          realm: tokenServer.realm,
          service: tokenServer.service,
          issuer: tokenServer.issuer,
          rootCertPem: tokenServer.rootCertPem,
        },
      },
    });
    context = await writeContext(join(dir, "app"), "FROM scratch\nCOPY hello.txt /hello.txt\n");
  });

  afterAll(async () => {
    await registry?.stop();
    await tokenServer?.stop();
    await trusting?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function azure(token: string): AzureAccess {
    return {
      armEndpoint: "https://management.azure.com",
      subscriptionId: "00000000-0000-0000-0000-0000000000aa",
      tenantId: "00000000-0000-0000-0000-0000000000bb",
      armToken: async () => token,
    };
  }

  function request(tag: string): BuildRequest {
    return {
      context,
      dockerfile: join(context, "Dockerfile"),
      buildArgs: {},
      registry: registry.host,
      imageName: "web",
      tag,
      builder: "buildah",
      auth: { kind: "entra" },
      certDir,
      storage: { root: join(dir, "storage", "root"), runRoot: join(dir, "storage", "run") },
    };
  }

  /** A pull token got the way any client gets one: exchange, then Basic auth on the realm. */
  async function pullAuthorization(): Promise<string> {
    const exchange = await trusting.fetch(`${tokenServer.url}/oauth2/exchange`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "access_token",
        service: registry.host,
        access_token: ARM_TOKEN,
      }).toString(),
    });
    const { refresh_token } = (await exchange.json()) as { refresh_token: string };
    const url = `${tokenServer.realm}?service=${encodeURIComponent(registry.host)}&scope=repository:web:pull`;
    const response = await trusting.fetch(url, {
      headers: {
        authorization: `Basic ${Buffer.from(`${ZERO_USER}:${refresh_token}`).toString("base64")}`,
      },
    });
    const { access_token } = (await response.json()) as { access_token: string };
    return `Bearer ${access_token}`;
  }

  test("exchanges the Azure token, logs in with the refresh token and pushes; the digest is the registry's", async () => {
    const result = await buildAndPush(request("v1"), {
      log: silentLog,
      azure: azure(ARM_TOKEN),
      fetch: trusting.fetch,
    });

    const served = await registryDigest(
      trusting.fetch,
      registry.host,
      "web",
      "v1",
      await pullAuthorization(),
    );
    expect(result.digest).toBe(served);
    expect(result.image).toBe(`${registry.host}/web@${served}`);
    const grants = tokenServer.requests().filter((entry) => entry.status === 200);
    expect(grants).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "/oauth2/exchange", grant: "access_token" }),
        expect.objectContaining({ path: "/oauth2/token" }),
      ]),
    );
    expect(silentLog.lines.join("\n")).not.toContain(ARM_TOKEN);
  });

  test("an Azure token the registry does not accept stops the build before anything is pushed", async () => {
    const failure = buildAndPush(request("refused"), {
      log: silentLog,
      azure: azure("a-token-for-someone-else"),
      fetch: trusting.fetch,
    });

    await expect(failure).rejects.toThrow(/refused the Entra ID token \(HTTP 401/);
    await expect(failure).rejects.toThrow(/AcrPush/);
    const served = await registryDigest(
      trusting.fetch,
      registry.host,
      "web",
      "refused",
      await pullAuthorization(),
    );
    expect(served).toBeNull();
  });

  test("the registry checks the token's signature: a token from another signing key is refused", async () => {
    const impostor = await startAcrTokenServer({
      key: leafPem.key,
      cert: leafPem.cert,
      service: tokenServer.service,
      issuer: tokenServer.issuer,
      verifyAccessToken: () => true,
    });
    try {
      const exchange = await trusting.fetch(`${impostor.url}/oauth2/exchange`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "access_token",
          service: registry.host,
          access_token: "x",
        }).toString(),
      });
      const { refresh_token } = (await exchange.json()) as { refresh_token: string };
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        service: registry.host,
        refresh_token,
      });
      const token = await trusting.fetch(`${impostor.url}/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form.toString(),
      });
      const { access_token } = (await token.json()) as { access_token: string };

      const refused = await trusting.fetch(`https://${registry.host}/v2/`, {
        headers: { authorization: `Bearer ${access_token}` },
      });
      const accepted = await trusting.fetch(`https://${registry.host}/v2/`, {
        headers: { authorization: await pullAuthorization() },
      });
      expect(refused.status).toBe(401);
      expect(accepted.status).toBe(200);
    } finally {
      await impostor.stop();
    }
  });
});
