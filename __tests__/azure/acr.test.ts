import { createVerify, X509Certificate } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerApp } from "@azure/arm-appcontainers";
import {
  libtrustKeyId,
  startAcrTokenServer,
  type AcrTokenServer,
} from "../../emulator/acrTokenServer.ts";
import { createCertificateAuthority } from "../../emulator/ca.ts";
import {
  ACR_REFRESH_TOKEN_USERNAME,
  describePullAccess,
  exchangeForAcrRefreshToken,
} from "../../src/azure/acr.ts";
import { fetchTrusting } from "../image/localRegistry.ts";

const REGISTRY = "myacr.azurecr.io";
const ARM_TOKEN = "entra-access-token-for-arm";

function decodeJwt(token: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
} {
  const [header, claims] = token
    .split(".")
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, "base64url").toString()));
  return { header, claims };
}

describe("ACR token exchange and token server", () => {
  let dir: string;
  let server: AcrTokenServer;
  let trusting: ReturnType<typeof fetchTrusting>;
  /** Answers `/v2/` of the registry as ACR does (a challenge naming its token server); the rest goes out. */
  let registryFetch: typeof fetch;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "acr-token-test-"));
    const ca = await createCertificateAuthority(dir);
    const leaf = await ca.issue(["127.0.0.1"]);
    server = await startAcrTokenServer({
      key: leaf.key,
      cert: leaf.cert,
      service: REGISTRY,
      verifyAccessToken: (token) => token === ARM_TOKEN,
    });
    trusting = fetchTrusting(ca.caPem);
    registryFetch = (async (input: string | URL | Request, init?: RequestInit) => {
      if (String(input) === `https://${REGISTRY}/v2/`) {
        return new Response("{}", {
          status: 401,
          headers: { "www-authenticate": `Bearer realm="${server.realm}",service="${REGISTRY}"` },
        });
      }
      return trusting.fetch(input, init);
    }) as typeof fetch;
  });

  afterAll(async () => {
    await server?.stop();
    await trusting?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function tokenFor(refreshToken: string, scope: string): Promise<Response> {
    return trusting.fetch(
      `${server.realm}?service=${REGISTRY}&scope=${encodeURIComponent(scope)}`,
      {
        headers: {
          authorization: `Basic ${Buffer.from(`${ACR_REFRESH_TOKEN_USERNAME}:${refreshToken}`).toString("base64")}`,
        },
      },
    );
  }

  test("exchanges an Entra ID token for a refresh token at the token server the registry names", async () => {
    const refreshToken = await exchangeForAcrRefreshToken({
      registry: REGISTRY,
      tenantId: "tenant-id",
      armAccessToken: ARM_TOKEN,
      fetch: registryFetch,
    });

    expect(refreshToken.length).toBeGreaterThan(20);
    expect(server.requests().at(-1)).toEqual({
      method: "POST",
      path: "/oauth2/exchange",
      grant: "access_token",
      status: 200,
    });
    expect((await tokenFor(refreshToken, "repository:web:pull")).status).toBe(200);
  });

  test("a refused exchange explains what to check and never repeats the token", async () => {
    const failure = exchangeForAcrRefreshToken({
      registry: REGISTRY,
      armAccessToken: "not-a-valid-token",
      fetch: registryFetch,
    });

    await expect(failure).rejects.toThrow(
      /myacr\.azurecr\.io refused the Entra ID token \(HTTP 401, UNAUTHORIZED/,
    );
    const message = await failure.catch((error: Error) => error.message);
    expect(message).not.toContain("not-a-valid-token");
  });

  test("without a bearer challenge, the exchange goes to the registry host itself", async () => {
    const seen: string[] = [];
    const fake = (async (input: string | URL | Request) => {
      seen.push(String(input));
      return String(input).endsWith("/v2/")
        ? new Response("{}", { status: 200 })
        : Response.json({ refresh_token: "from-the-registry-host" });
    }) as typeof fetch;

    await expect(
      exchangeForAcrRefreshToken({ registry: REGISTRY, armAccessToken: ARM_TOKEN, fetch: fake }),
    ).resolves.toBe("from-the-registry-host");
    expect(seen).toEqual([`https://${REGISTRY}/v2/`, `https://${REGISTRY}/oauth2/exchange`]);
  });

  test("access tokens carry issuer, audience and the scopes asked, signed by the certificate in x5c", async () => {
    const refreshToken = await exchangeForAcrRefreshToken({
      registry: REGISTRY,
      armAccessToken: ARM_TOKEN,
      fetch: registryFetch,
    });
    const response = await tokenFor(refreshToken, "repository:team/web:pull,push");
    const body = (await response.json()) as {
      access_token: string;
      token: string;
      expires_in: number;
    };
    const { header, claims } = decodeJwt(body.access_token);

    expect(body.token).toBe(body.access_token);
    expect(body.expires_in).toBeGreaterThan(0);
    expect(claims).toMatchObject({
      iss: server.issuer,
      aud: REGISTRY,
      access: [{ type: "repository", name: "team/web", actions: ["pull", "push"] }],
    });
    expect(header.alg).toBe("ES256");
    const certificate = new X509Certificate(Buffer.from((header.x5c as string[])[0], "base64"));
    expect(certificate.toString()).toBe(new X509Certificate(server.rootCertPem).toString());
    const spki = certificate.publicKey.export({ type: "spki", format: "der" });
    expect(header.kid).toBe(libtrustKeyId(spki));
    const [head, payload, signature] = body.access_token.split(".");
    const verifier = createVerify("SHA256").update(`${head}.${payload}`);
    expect(
      verifier.verify(
        { key: certificate.publicKey, dsaEncoding: "ieee-p1363" },
        Buffer.from(signature, "base64url"),
      ),
    ).toBe(true);
  });

  test("the token endpoint takes a refresh_token grant and refuses unknown refresh tokens", async () => {
    const refreshToken = await exchangeForAcrRefreshToken({
      registry: REGISTRY,
      armAccessToken: ARM_TOKEN,
      fetch: registryFetch,
    });
    const post = (token: string) =>
      trusting.fetch(server.realm, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "refresh_token",
          service: REGISTRY,
          scope: "repository:web:pull",
          refresh_token: token,
        }).toString(),
      });

    const granted = await post(refreshToken);
    expect(granted.status).toBe(200);
    const { access_token } = (await granted.json()) as { access_token: string };
    expect(decodeJwt(access_token).claims.access).toEqual([
      { type: "repository", name: "web", actions: ["pull"] },
    ]);
    expect((await post("made-up")).status).toBe(401);
    expect((await tokenFor("made-up", "repository:web:pull")).status).toBe(401);
  });

  test("libtrust key ids have twelve groups of four base32 characters", () => {
    expect(libtrustKeyId(Buffer.from("any public key bytes"))).toMatch(
      /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/,
    );
  });
});

describe("describePullAccess", () => {
  const PULLER =
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/puller";
  const base: ContainerApp = {
    location: "westeurope",
    name: "web",
    identity: {
      type: "SystemAssigned,UserAssigned",
      userAssignedIdentities: { [PULLER]: {} },
    },
    configuration: {
      secrets: [{ name: "acr-password" }],
      registries: [{ server: "other.azurecr.io", identity: "system" }],
    },
  };

  test("an app without an entry for the registry is reported, with what to do", () => {
    const access = describePullAccess(base, REGISTRY);

    expect(access.configured).toBe(false);
    expect(access.message).toContain(
      `Container app web has no entry for ${REGISTRY} in configuration.registries`,
    );
    expect(access.message).toContain("AcrPull");
    expect(access.patch).toBeUndefined();
  });

  test("asked for system-identity pull, returns the registries patch that keeps the other entries", () => {
    const access = describePullAccess(base, REGISTRY, { identity: "system" });

    expect(access.patch).toEqual({
      configuration: {
        registries: [
          { server: "other.azurecr.io", identity: "system" },
          { server: REGISTRY, identity: "system" },
        ],
      },
    });
  });

  test("asked for a user-assigned identity the app does not have, gives no patch and says why", () => {
    const access = describePullAccess(base, REGISTRY, {
      identity:
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/absent",
    });

    expect(access.patch).toBeUndefined();
    expect(access.message).toMatch(/userAssignedIdentities\/absent is not assigned to the app/);
  });

  test("an identity entry or a user name with an existing secret counts as configured", () => {
    const byIdentity = describePullAccess(
      {
        ...base,
        configuration: { registries: [{ server: "MyAcr.azurecr.io", identity: PULLER }] },
      },
      REGISTRY,
    );
    const byPassword = describePullAccess(
      {
        ...base,
        configuration: {
          ...base.configuration,
          registries: [{ server: REGISTRY, username: "puller", passwordSecretRef: "acr-password" }],
        },
      },
      REGISTRY,
    );

    expect(byIdentity).toMatchObject({
      configured: true,
      message: expect.stringContaining("userAssignedIdentities/puller"),
    });
    expect(byPassword).toMatchObject({
      configured: true,
      message: expect.stringContaining("as puller (password in secret acr-password)"),
    });
  });

  test("an entry that cannot work is not counted as configured", () => {
    const noSystemIdentity = describePullAccess(
      {
        ...base,
        identity: { type: "None" },
        configuration: { registries: [{ server: REGISTRY, identity: "system" }] },
      },
      REGISTRY,
    );
    const missingSecret = describePullAccess(
      {
        ...base,
        configuration: {
          registries: [{ server: REGISTRY, username: "puller", passwordSecretRef: "gone" }],
        },
      },
      REGISTRY,
    );

    expect(noSystemIdentity).toMatchObject({
      configured: false,
      message: expect.stringContaining("no system-assigned identity"),
    });
    expect(missingSecret).toMatchObject({
      configured: false,
      message: expect.stringContaining("secret gone does not exist"),
    });
  });
});
