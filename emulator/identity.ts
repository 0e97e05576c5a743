/**
 * Identity for the emulator, served on one HTTPS server:
 * - Entra ID: OpenID configuration, signing keys and the v2.0 token endpoint for
 *   client_credentials with a client secret or a client assertion;
 * - the GitHub Actions OIDC token endpoint (what ACTIONS_ID_TOKEN_REQUEST_URL points at);
 * - the Azure Pipelines OIDC token endpoint (what SYSTEM_OIDCREQUESTURI points at).
 * Client assertions are accepted when they are RS256 JWTs from either OIDC issuer for the
 * `api://AzureADTokenExchange` audience: federated credentials are modelled as "trust every
 * subject of both issuers". Access tokens are RS256 JWTs that the ARM server verifies.
 */
import {
  createHash,
  generateKeyPair,
  randomBytes,
  randomUUID,
  sign,
  timingSafeEqual,
  verify,
  type JsonWebKey,
  type KeyObject,
} from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { promisify } from "node:util";
import {
  HttpError,
  isRecord,
  matchRoute,
  readBody,
  sendJson,
  type Reply,
  type HttpRoute,
} from "./http.ts";

export interface IdentityOptions {
  /** Port of the HTTPS server this identity answers on. */
  port: number;
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

export interface Identity {
  readonly authorityHost: string;
  readonly githubOidcUrl: string;
  readonly githubOidcToken: string;
  readonly adoOidcUrl: string;
  readonly adoAccessToken: string;
  readonly adoServiceConnectionId: string;
  handle(request: IncomingMessage, response: ServerResponse): void;
  /** The 401 to answer an ARM call with, or undefined when its bearer token is valid. */
  checkArmAuthorization(authorization: string | undefined): HttpError | undefined;
  /**
   * Why a bearer token issued by the emulator's token endpoint is not valid for `audiences`
   * (missing, forged, expired, for another resource), or undefined when it is.
   */
  bearerProblem(
    authorization: string | undefined,
    audiences: readonly string[],
  ): "missing" | "invalid" | "expired" | "audience" | undefined;
}

const tokenExchangeAudience = "api://AzureADTokenExchange";
const jwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const accessTokenLifetimeSeconds = 3599;
const oidcTokenLifetimeSeconds = 600;
/** Clock skew tolerated on `nbf`, as Entra ID does. */
const skewSeconds = 300;
const githubRepository = "octo-org/octo-repo";
const adoOrganization = "contoso";
const adoProject = "webapp";

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: JsonWebKey;
}

interface Jwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

interface RequestContext {
  request: IncomingMessage;
  body: Buffer;
  /** https://host:port as the client addressed us (127.0.0.1 or localhost). */
  origin: string;
}

export async function createIdentity(options: IdentityOptions): Promise<Identity> {
  const { port, tenantId, clientId, clientSecret } = options;
  const [entraKey, githubKey, adoKey] = await Promise.all([
    createSigningKey(),
    createSigningKey(),
    createSigningKey(),
  ]);
  const defaultOrigin = `https://127.0.0.1:${port}`;
  const knownOrigins = new Set([defaultOrigin, `https://localhost:${port}`]);
  const githubOidcToken = randomBytes(24).toString("base64url");
  const adoAccessToken = randomBytes(24).toString("base64url");
  const adoServiceConnectionId = "6b1f6b5e-3c1d-4b8a-9a55-2d0c3f7e8a41";
  // The service principal the client id stands for; stable so that `oid` is too.
  const servicePrincipalId = uuidFrom(`${tenantId}/${clientId}`);

  const routes: HttpRoute<RequestContext>[] = [
    {
      method: "GET",
      pattern: /^\/github\/idtoken$/,
      handle: (context) => githubIdToken(context),
    },
    {
      method: "GET",
      pattern: /^\/github\/\.well-known\/openid-configuration$/,
      handle: ({ origin }) => issuerConfiguration(`${origin}/github`),
    },
    {
      method: "GET",
      pattern: /^\/github\/\.well-known\/jwks$/,
      handle: () => ({ status: 200, body: { keys: [publicJwk(githubKey)] } }),
    },
    {
      method: "POST",
      pattern: /^\/ado\/oidctoken$/,
      handle: (context) => adoOidcToken(context),
    },
    {
      method: "GET",
      pattern: /^\/ado\/\.well-known\/openid-configuration$/,
      handle: ({ origin }) => issuerConfiguration(`${origin}/ado`),
    },
    {
      method: "GET",
      pattern: /^\/ado\/\.well-known\/jwks$/,
      handle: () => ({ status: 200, body: { keys: [publicJwk(adoKey)] } }),
    },
    {
      method: "GET",
      pattern: /^\/(?<tenant>[^/]+)\/v2\.0\/\.well-known\/openid-configuration$/,
      handle: (context, { tenant }) => openIdConfiguration(context, tenant),
    },
    {
      method: "GET",
      pattern: /^\/(?<tenant>[^/]+)\/discovery\/v2\.0\/keys$/,
      handle: () => ({ status: 200, body: { keys: [publicJwk(entraKey)] } }),
    },
    {
      method: "POST",
      pattern: /^\/(?<tenant>[^/]+)\/oauth2\/v2\.0\/token$/,
      handle: (context, { tenant }) => token(context, tenant),
    },
  ];

  function openIdConfiguration({ origin }: RequestContext, tenant: string): Reply {
    if (!isOurTenant(tenant)) return tenantNotFound(tenant);
    const base = `${origin}/${tenantId}`;
    return {
      status: 200,
      body: {
        issuer: `${base}/v2.0`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/oauth2/v2.0/token`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt"],
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        tenant_region_scope: "EU",
        cloud_instance_name: "emulator.test",
      },
    };
  }

  function token(context: RequestContext, tenant: string): Reply {
    if (!isOurTenant(tenant)) return tenantNotFound(tenant);
    const form = new URLSearchParams(context.body.toString("utf8"));
    const grantType = form.get("grant_type");
    if (grantType !== "client_credentials") {
      return entraError(
        "unsupported_grant_type",
        70003,
        `The app requested an unsupported grant type '${grantType ?? ""}'; this emulator issues ` +
          "tokens for client_credentials only.",
      );
    }
    const requestedClient = form.get("client_id") ?? "";
    if (requestedClient.toLowerCase() !== clientId.toLowerCase()) {
      return entraError(
        "unauthorized_client",
        700016,
        `Application with identifier '${requestedClient}' was not found in the directory ` +
          `'${tenantId}'. The emulator knows client id '${clientId}'.`,
      );
    }
    const resource = resourceOfScope(form.get("scope"));
    if (typeof resource !== "string") return resource;

    const secret = form.get("client_secret");
    const assertion = form.get("client_assertion");
    if (secret !== null) {
      if (!sameSecret(secret, clientSecret)) {
        return entraError(
          "invalid_client",
          7000215,
          "Invalid client secret provided. Ensure the secret being sent in the request is the " +
            `client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        );
      }
    } else if (assertion !== null) {
      if (form.get("client_assertion_type") !== jwtBearerAssertionType) {
        return entraError(
          "invalid_request",
          700023,
          `client_assertion_type must be '${jwtBearerAssertionType}'.`,
        );
      }
      const problem = checkAssertion(assertion);
      if (problem) return problem;
    } else {
      return entraError(
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or " +
          "'client_secret'.",
      );
    }

    const now = nowSeconds();
    const accessToken = signJwt(entraKey, {
      aud: resource,
      iss: `${context.origin}/${tenantId}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + accessTokenLifetimeSeconds,
      appid: clientId,
      azp: clientId,
      idtyp: "app",
      oid: servicePrincipalId,
      sub: servicePrincipalId,
      tid: tenantId,
      ver: "2.0",
    });
    return {
      status: 200,
      body: {
        token_type: "Bearer",
        expires_in: accessTokenLifetimeSeconds,
        ext_expires_in: accessTokenLifetimeSeconds,
        access_token: accessToken,
      },
    };
  }

  /** The resource of a `<resource>/.default` scope, or the error to answer. */
  function resourceOfScope(scope: string | null): string | Reply {
    const scopes = (scope ?? "")
      .split(" ")
      .filter((item) => item !== "" && !["openid", "profile", "offline_access"].includes(item));
    if (scopes.length === 0) {
      return entraError(
        "invalid_request",
        900144,
        "The request body must contain the following parameter: 'scope'.",
      );
    }
    const resources = scopes.filter((item) => item.endsWith("/.default"));
    if (resources.length !== 1 || scopes.length !== 1) {
      return entraError(
        "invalid_scope",
        1002012,
        `The provided value for scope '${scopes.join(" ")}' is not valid. Client credential ` +
          "flows must have a single scope value with /.default suffixed to the resource identifier.",
      );
    }
    return resources[0].slice(0, -"/.default".length);
  }

  function checkAssertion(assertion: string): Reply | undefined {
    const jwt = decodeJwt(assertion);
    if (!jwt) {
      return entraError("invalid_client", 50027, "JWT token is invalid or malformed.");
    }
    const issuer = typeof jwt.claims.iss === "string" ? jwt.claims.iss : "";
    const issuerKey = issuerKeyFor(issuer);
    if (!issuerKey) {
      return noFederatedCredential(jwt, "its issuer is not one the emulator trusts");
    }
    if (!hasValidSignature(jwt, issuerKey)) {
      return entraError("invalid_client", 700027, "Client assertion failed signature validation.");
    }
    if (!audiences(jwt.claims).includes(tokenExchangeAudience)) {
      return noFederatedCredential(jwt, `its audience is not '${tokenExchangeAudience}'`);
    }
    const now = nowSeconds();
    const exp = jwt.claims.exp;
    const nbf = jwt.claims.nbf;
    if (
      typeof exp !== "number" ||
      exp <= now ||
      (typeof nbf === "number" && nbf > now + skewSeconds)
    ) {
      return entraError(
        "invalid_client",
        700024,
        "Client assertion is not within its valid time range. " +
          `Current time: ${new Date(now * 1000).toISOString()}, assertion valid from ` +
          `${typeof nbf === "number" ? new Date(nbf * 1000).toISOString() : "(unset)"}, expiry ` +
          `time of assertion ${typeof exp === "number" ? new Date(exp * 1000).toISOString() : "(unset)"}.`,
      );
    }
    return undefined;
  }

  function issuerKeyFor(issuer: string): SigningKey | undefined {
    for (const origin of knownOrigins) {
      if (issuer === `${origin}/github`) return githubKey;
      if (issuer === `${origin}/ado`) return adoKey;
    }
    return undefined;
  }

  function noFederatedCredential(jwt: Jwt, reason: string): Reply {
    return entraError(
      "invalid_client",
      70021,
      `No matching federated identity record found for presented assertion (${reason}). ` +
        `Assertion Issuer: '${String(jwt.claims.iss)}'. Assertion Subject: '${String(jwt.claims.sub)}'. ` +
        `Assertion Audience: '${audiences(jwt.claims).join(",")}'.`,
    );
  }

  function githubIdToken({ request, origin }: RequestContext): Reply {
    if (bearerToken(request.headers.authorization) !== githubOidcToken) {
      return {
        status: 401,
        body: { message: "Invalid or missing ACTIONS_ID_TOKEN_REQUEST_TOKEN." },
      };
    }
    const url = new URL(request.url ?? "/", origin);
    const [owner] = githubRepository.split("/");
    const audience = url.searchParams.get("audience") ?? `https://github.com/${owner}`;
    const now = nowSeconds();
    const ref = "refs/heads/main";
    const value = signJwt(githubKey, {
      jti: randomUUID(),
      sub: `repo:${githubRepository}:ref:${ref}`,
      aud: audience,
      ref,
      sha: createHash("sha1").update(String(now)).digest("hex"),
      repository: githubRepository,
      repository_owner: owner,
      run_id: String(now),
      run_number: "1",
      run_attempt: "1",
      actor: "octocat",
      workflow: "deploy",
      event_name: "push",
      ref_type: "branch",
      job_workflow_ref: `${githubRepository}/.github/workflows/deploy.yml@${ref}`,
      runner_environment: "github-hosted",
      iss: `${origin}/github`,
      nbf: now,
      iat: now,
      exp: now + oidcTokenLifetimeSeconds,
    });
    return { status: 200, body: { count: 1, value } };
  }

  function adoOidcToken({ request, origin }: RequestContext): Reply {
    if (bearerToken(request.headers.authorization) !== adoAccessToken) {
      return {
        status: 401,
        body: {
          message: "TF400813: The caller is not authorized to access this resource.",
          typeKey: "UnauthorizedRequestException",
        },
      };
    }
    const url = new URL(request.url ?? "/", origin);
    const apiVersion = url.searchParams.get("api-version");
    if (!apiVersion || !/^7\.\d+(-preview(\.\d+)?)?$/.test(apiVersion)) {
      return {
        status: 400,
        body: {
          message: `The requested REST API version '${apiVersion ?? ""}' is not supported; use 7.1.`,
          typeKey: "VssVersionNotSupportedException",
        },
      };
    }
    const serviceConnectionId = url.searchParams.get("serviceConnectionId");
    if (!serviceConnectionId) {
      return {
        status: 400,
        body: {
          message: "The serviceConnectionId query parameter is required.",
          typeKey: "ArgumentNullException",
        },
      };
    }
    const now = nowSeconds();
    const oidcToken = signJwt(adoKey, {
      jti: randomUUID(),
      sub: `sc://${adoOrganization}/${adoProject}/${serviceConnectionId}`,
      aud: tokenExchangeAudience,
      iss: `${origin}/ado`,
      nbf: now,
      iat: now,
      exp: now + oidcTokenLifetimeSeconds,
    });
    return { status: 200, body: { oidcToken } };
  }

  function isOurTenant(tenant: string): boolean {
    return tenant.toLowerCase() === tenantId.toLowerCase();
  }

  function tenantNotFound(tenant: string): Reply {
    return entraError(
      "invalid_tenant",
      90002,
      `Tenant '${tenant}' not found. The emulator serves tenant '${tenantId}'.`,
    );
  }

  function handle(request: IncomingMessage, response: ServerResponse): void {
    void (async () => {
      try {
        const body = await readBody(request);
        const host = request.headers.host ?? "";
        const origin = knownOrigins.has(`https://${host}`) ? `https://${host}` : defaultOrigin;
        const path = new URL(request.url ?? "/", origin).pathname;
        const found = matchRoute(routes, request.method ?? "GET", path);
        if (found === undefined || found === "method-not-allowed") {
          sendJson(response, found === undefined ? 404 : 405, {
            error: "not_found",
            error_description: `No identity endpoint at ${request.method} ${path}.`,
          });
          return;
        }
        const reply = await found.route.handle({ request, body, origin }, found.params);
        sendJson(response, reply.status, reply.body, reply.headers);
      } catch (error) {
        if (!response.headersSent) {
          const status = error instanceof HttpError ? error.status : 500;
          sendJson(response, status, { error: "server_error", error_description: String(error) });
        }
      }
    })();
  }

  function checkArmAuthorization(authorization: string | undefined): HttpError | undefined {
    const fail = (code: string, message: string) =>
      new HttpError(401, code, message, {
        "www-authenticate":
          `Bearer authorization_uri="${defaultOrigin}/${tenantId}", error="invalid_token", ` +
          `error_description="${message.replaceAll('"', "'")}"`,
      });
    const tokenText = bearerToken(authorization);
    if (!tokenText) {
      return fail(
        "InvalidAuthenticationToken",
        "Authentication failed. The 'Authorization' header is missing or is not a Bearer token.",
      );
    }
    const jwt = decodeJwt(tokenText);
    if (!jwt || !hasValidSignature(jwt, entraKey)) {
      return fail(
        "InvalidAuthenticationToken",
        "The access token is invalid: it was not issued by the emulator's token endpoint.",
      );
    }
    const exp = jwt.claims.exp;
    if (typeof exp !== "number" || exp <= nowSeconds()) {
      return fail(
        "ExpiredAuthenticationToken",
        "The access token expiry UTC time is earlier than current UTC time.",
      );
    }
    if (!audiences(jwt.claims).some(isManagementAudience)) {
      return fail(
        "InvalidAuthenticationTokenAudience",
        `The access token has been obtained for wrong audience or resource ` +
          `'${audiences(jwt.claims).join(",")}'. It should exactly match one of the audiences ` +
          "'https://management.core.windows.net/', 'https://management.azure.com/'.",
      );
    }
    return undefined;
  }

  function bearerProblem(
    authorization: string | undefined,
    accepted: readonly string[],
  ): "missing" | "invalid" | "expired" | "audience" | undefined {
    const tokenText = bearerToken(authorization);
    if (!tokenText) return "missing";
    const jwt = decodeJwt(tokenText);
    if (!jwt || !hasValidSignature(jwt, entraKey)) return "invalid";
    const exp = jwt.claims.exp;
    if (typeof exp !== "number" || exp <= nowSeconds()) return "expired";
    const wanted = accepted.map((a) => a.replace(/\/+$/, ""));
    if (!audiences(jwt.claims).some((a) => wanted.includes(a.replace(/\/+$/, "")))) {
      return "audience";
    }
    return undefined;
  }

  return {
    authorityHost: defaultOrigin,
    bearerProblem,
    githubOidcUrl: `${defaultOrigin}/github/idtoken?api-version=2.0`,
    githubOidcToken,
    adoOidcUrl: `${defaultOrigin}/ado/oidctoken`,
    adoAccessToken,
    adoServiceConnectionId,
    handle,
    checkArmAuthorization,
  };
}

async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)("rsa", {
    modulusLength: 2048,
  });
  const jwk = publicKey.export({ format: "jwk" });
  const kid = createHash("sha256")
    .update(jwk.n ?? "")
    .digest("base64url")
    .slice(0, 27);
  return { kid, privateKey, publicKey, jwk };
}

function publicJwk(key: SigningKey): JsonWebKey {
  return { kty: "RSA", use: "sig", alg: "RS256", kid: key.kid, n: key.jwk.n, e: key.jwk.e };
}

function issuerConfiguration(issuer: string): Reply {
  return {
    status: 200,
    body: {
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks`,
      subject_types_supported: ["public"],
      response_types_supported: ["id_token"],
      id_token_signing_alg_values_supported: ["RS256"],
      scopes_supported: ["openid"],
    },
  };
}

function signJwt(key: SigningKey, claims: Record<string, unknown>): string {
  const header = { alg: "RS256", typ: "JWT", kid: key.kid };
  const signingInput = `${base64urlJson(header)}.${base64urlJson(claims)}`;
  const signature = sign("RSA-SHA256", Buffer.from(signingInput), key.privateKey);
  return `${signingInput}.${signature.toString("base64url")}`;
}

function decodeJwt(token: string): Jwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8")) as unknown;
    const claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as unknown;
    if (!isRecord(header) || !isRecord(claims)) return undefined;
    return {
      header,
      claims,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2], "base64url"),
    };
  } catch {
    return undefined;
  }
}

function hasValidSignature(jwt: Jwt, key: SigningKey): boolean {
  return (
    jwt.header.alg === "RS256" &&
    verify("RSA-SHA256", Buffer.from(jwt.signingInput), key.publicKey, jwt.signature)
  );
}

function audiences(claims: Record<string, unknown>): string[] {
  const aud = claims.aud;
  if (typeof aud === "string") return [aud];
  return Array.isArray(aud) ? aud.filter((item): item is string => typeof item === "string") : [];
}

/** ARM accepts tokens for its resource in every cloud (management.azure.com, .usgovcloudapi.net…). */
function isManagementAudience(audience: string): boolean {
  try {
    return new URL(audience).hostname.startsWith("management.");
  } catch {
    return false;
  }
}

function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  return match?.[1];
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Entra ID's error body: `error`, an AADSTS-coded `error_description`, and trace fields. */
function entraError(error: string, code: number, description: string): Reply {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  return {
    status: 400,
    body: {
      error,
      error_description:
        `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} ` +
        `Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
    },
  };
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** A stable UUID-shaped identifier derived from a name. */
function uuidFrom(name: string): string {
  const hex = createHash("sha256").update(name).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
