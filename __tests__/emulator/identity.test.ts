/**
 * Entra ID and the two OIDC issuers, through the clients that use them in production:
 * @azure/identity's ClientSecretCredential, ClientAssertionCredential and
 * AzurePipelinesCredential, and @actions/core's getIDToken.
 */
import * as core from "@actions/core";
import {
  AzurePipelinesCredential,
  ClientAssertionCredential,
  ClientSecretCredential,
} from "@azure/identity";
import { Agent, fetch } from "undici";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import {
  armRequest,
  caOf,
  identityOptions,
  managementScope,
  rejectionOf,
  trustProcessWide,
} from "./support.ts";

const exchangeAudience = "api://AzureADTokenExchange";

let emulator: Emulator;
let dispatcher: Agent;
const savedEnv = { ...process.env };

beforeAll(async () => {
  emulator = await startEmulator();
  dispatcher = new Agent({ connect: { ca: caOf(emulator.info) } });
  // @actions/core has no CA option of its own.
  trustProcessWide(emulator.info);
  process.env.ACTIONS_ID_TOKEN_REQUEST_URL = emulator.info.githubOidcUrl;
  process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = emulator.info.githubOidcToken;
  process.env.SYSTEM_OIDCREQUESTURI = emulator.info.adoOidcUrl;
});

afterAll(async () => {
  process.env = savedEnv;
  await dispatcher.close();
  await emulator.stop();
});

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;
}

async function getJson(url: string, init: Parameters<typeof fetch>[1] = {}) {
  const response = await fetch(url, { ...init, dispatcher });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function tokenRequest(form: Record<string, string>) {
  const { authorityHost, tenantId } = emulator.info;
  return getJson(`${authorityHost}/${tenantId}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
}

function assertionCredential(getAssertion: () => Promise<string>) {
  const { tenantId, clientId } = emulator.info;
  return new ClientAssertionCredential(
    tenantId,
    clientId,
    getAssertion,
    identityOptions(emulator.info),
  );
}

describe("Entra ID", () => {
  it("serves the OpenID configuration MSAL reads, with the issuer on the host the client used", async () => {
    const { authorityHost, tenantId } = emulator.info;
    const { status, body } = await getJson(
      `${authorityHost}/${tenantId}/v2.0/.well-known/openid-configuration`,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      issuer: `${authorityHost}/${tenantId}/v2.0`,
      token_endpoint: `${authorityHost}/${tenantId}/oauth2/v2.0/token`,
      authorization_endpoint: `${authorityHost}/${tenantId}/oauth2/v2.0/authorize`,
      jwks_uri: `${authorityHost}/${tenantId}/discovery/v2.0/keys`,
    });
    const viaLocalhost = authorityHost.replace("127.0.0.1", "localhost");
    const local = await getJson(
      `${viaLocalhost}/${tenantId}/v2.0/.well-known/openid-configuration`,
    );
    expect(local.body.issuer).toBe(`${viaLocalhost}/${tenantId}/v2.0`);

    const unknown = await getJson(
      `${authorityHost}/other-tenant/v2.0/.well-known/openid-configuration`,
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe("invalid_tenant");
  });

  it("issues bearer tokens for client_credentials with the client secret", async () => {
    const { clientId, clientSecret, tenantId } = emulator.info;
    const { status, body } = await tokenRequest({
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: clientSecret,
      scope: managementScope,
    });
    expect(status).toBe(200);
    expect(body).toEqual({
      token_type: "Bearer",
      access_token: expect.any(String),
      expires_in: expect.any(Number),
      ext_expires_in: expect.any(Number),
    });
    expect(claimsOf(String(body.access_token))).toMatchObject({
      aud: "https://management.azure.com",
      tid: tenantId,
      appid: clientId,
    });

    const credential = new ClientSecretCredential(
      tenantId,
      clientId,
      clientSecret,
      identityOptions(emulator.info),
    );
    expect((await credential.getToken(managementScope)).token).toMatch(/^ey/);
  });

  it("answers a wrong secret or an unknown client with invalid_client / unauthorized_client", async () => {
    const { tenantId, clientId } = emulator.info;
    const wrongSecret = new ClientSecretCredential(
      tenantId,
      clientId,
      "not-the-secret",
      identityOptions(emulator.info),
    );
    const error = await rejectionOf(wrongSecret.getToken(managementScope));
    expect(error.name).toBe("AuthenticationRequiredError");
    expect(error.message).toContain("invalid_client");
    expect(error.message).toContain("AADSTS7000215");

    const { status, body } = await tokenRequest({
      grant_type: "client_credentials",
      client_id: "00000000-0000-0000-0000-000000000000",
      client_secret: emulator.info.clientSecret,
      scope: managementScope,
    });
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: "unauthorized_client", error_codes: [700016] });

    const neither = await tokenRequest({
      grant_type: "client_credentials",
      client_id: clientId,
      scope: managementScope,
    });
    expect(neither.body).toMatchObject({ error: "invalid_client", error_codes: [7000218] });
  });
});

describe("GitHub Actions OIDC", () => {
  it("answers getIDToken with an RS256 JWT for the requested audience", async () => {
    const token = await core.getIDToken(exchangeAudience);
    expect(JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString())).toMatchObject({
      alg: "RS256",
    });
    expect(claimsOf(token)).toMatchObject({
      iss: `${emulator.info.authorityHost}/github`,
      aud: exchangeAudience,
      sub: "repo:octo-org/octo-repo:ref:refs/heads/main",
      repository: "octo-org/octo-repo",
    });
    expect(claimsOf(await core.getIDToken()).aud).toBe("https://github.com/octo-org");
  });

  it("refuses a request without the runner's request token", async () => {
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = "not-the-token";
    try {
      await expect(core.getIDToken(exchangeAudience)).rejects.toThrow(/Failed to get ID Token/);
    } finally {
      process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = emulator.info.githubOidcToken;
    }
  });

  it("is accepted as a client assertion, and the access token works against ARM", async () => {
    const credential = assertionCredential(() => core.getIDToken(exchangeAudience));
    const { token } = await credential.getToken(managementScope);
    const answer = await armRequest(
      emulator.info,
      "GET",
      `/subscriptions/${emulator.info.subscriptionId}/resourcegroups/rg-none?api-version=2021-04-01`,
      { token },
    );
    expect(answer.status).toBe(404);
    expect(answer.body.error).toMatchObject({ code: "ResourceGroupNotFound" });
  });
});

describe("Azure Pipelines OIDC", () => {
  it("serves AzurePipelinesCredential's OIDC request, whose token Entra ID accepts", async () => {
    const { tenantId, clientId, adoServiceConnectionId, adoAccessToken, adoOidcUrl } =
      emulator.info;
    const credential = new AzurePipelinesCredential(
      tenantId,
      clientId,
      adoServiceConnectionId,
      adoAccessToken,
      identityOptions(emulator.info),
    );
    expect((await credential.getToken(managementScope)).token).toMatch(/^ey/);

    const { status, body } = await getJson(
      `${adoOidcUrl}?api-version=7.1&serviceConnectionId=${adoServiceConnectionId}`,
      { method: "POST", headers: { authorization: `Bearer ${adoAccessToken}` } },
    );
    expect(status).toBe(200);
    expect(claimsOf(String(body.oidcToken))).toMatchObject({
      iss: `${emulator.info.authorityHost}/ado`,
      aud: exchangeAudience,
      sub: `sc://contoso/webapp/${adoServiceConnectionId}`,
    });
  });

  it("refuses a wrong system access token", async () => {
    const { tenantId, clientId, adoServiceConnectionId } = emulator.info;
    const credential = new AzurePipelinesCredential(
      tenantId,
      clientId,
      adoServiceConnectionId,
      "wrong-token",
      identityOptions(emulator.info),
    );
    await expect(credential.getToken(managementScope)).rejects.toThrow(
      /oidcToken field not detected/,
    );
  });
});

describe("client assertion checks", () => {
  async function failureOf(assertion: string): Promise<string> {
    const error = await rejectionOf(
      assertionCredential(async () => assertion).getToken(managementScope),
    );
    return error.message;
  }

  it("rejects a malformed assertion, a tampered one and one for another audience", async () => {
    expect(await failureOf("not-a-jwt")).toContain("AADSTS50027");

    const [header, payload, signature] = (await core.getIDToken(exchangeAudience)).split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<
      string,
      unknown
    >;
    const tampered = Buffer.from(
      JSON.stringify({ ...claims, sub: "repo:evil/repo:ref:refs/heads/main" }),
    );
    expect(await failureOf(`${header}.${tampered.toString("base64url")}.${signature}`)).toContain(
      "AADSTS700027",
    );

    expect(await failureOf(await core.getIDToken("https://github.com/octo-org"))).toContain(
      "AADSTS70021",
    );
  });

  it("rejects an expired assertion", async () => {
    const assertion = await core.getIDToken(exchangeAudience);
    const realNow = Date.now;
    // Eleven minutes later, past the ten-minute lifetime of the token.
    Date.now = () => realNow() + 11 * 60 * 1000;
    try {
      expect(await failureOf(assertion)).toContain("AADSTS700024");
    } finally {
      Date.now = realNow;
    }
  });
});
