/**
 * A token server that speaks Azure Container Registry's token protocol, for a local registry
 * (distribution, `auth.token`) to stand in for ACR:
 * - `POST /oauth2/exchange`: an Entra ID access token for an ACR refresh token;
 * - `GET /oauth2/token` (Basic auth: the all-zero user and the refresh token) and
 *   `POST /oauth2/token` (`grant_type=refresh_token`): a registry access token for the scopes asked.
 * Access tokens are ES256 JWTs whose `x5c` header carries the signing certificate, which the
 * registry verifies against its `rootcertbundle` (give it `rootCertPem`).
 */
import "reflect-metadata";
import { createHash, randomBytes, webcrypto } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as x509 from "@peculiar/x509";
import { readBody, sendJson } from "./http.ts";
import { closeServer, listenOnLoopback, trackSockets } from "./net-util.ts";

/** The user name that goes with an ACR refresh token. */
export const ACR_REFRESH_TOKEN_USER = "00000000-0000-0000-0000-000000000000";

export interface AcrTokenServerOptions {
  /** TLS key and certificate (PEM) the server answers with; the caller owns the CA. */
  key: string;
  cert: string;
  /** The registry's service name: the `service` clients send and the `aud` of access tokens. */
  service: string;
  /** Whether an Entra ID access token may be exchanged for a refresh token. */
  verifyAccessToken(token: string): boolean;
  /** `iss` of access tokens (the registry's `auth.token.issuer`). Default `acr-token-server`. */
  issuer?: string;
  /** Lifetime of access tokens. Default 300 s. */
  accessTokenSeconds?: number;
  /** Lifetime of refresh tokens. Default 3 h, as ACR's. */
  refreshTokenSeconds?: number;
}

export interface TokenServerRequest {
  method: string;
  path: string;
  /** `grant_type` of the form, or `basic` for a Basic-auth token GET. */
  grant?: string;
  status: number;
}

export interface AcrTokenServer {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  /** The registry's `auth.token.realm`. */
  readonly realm: string;
  readonly issuer: string;
  readonly service: string;
  /** The token-signing certificate (PEM): the registry's `auth.token.rootcertbundle`. */
  readonly rootCertPem: string;
  /** Every request answered, oldest first. */
  requests(): TokenServerRequest[];
  stop(): Promise<void>;
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

const signing: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = {
  name: "ECDSA",
  namedCurve: "P-256",
  hash: "SHA-256",
};
const hourMs = 60 * 60 * 1000;

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/**
 * The key id distribution's libtrust gives a public key: SHA-256 of its DER SubjectPublicKeyInfo,
 * the first 240 bits in base32, in groups of four joined by `:`.
 */
export function libtrustKeyId(spki: Buffer): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const hash = createHash("sha256").update(spki).digest().subarray(0, 30);
  let bits = "";
  for (const byte of hash) bits += byte.toString(2).padStart(8, "0");
  let encoded = "";
  for (let i = 0; i < bits.length; i += 5) encoded += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return encoded.match(/.{4}/g)!.join(":");
}

/** `repository:team/web:pull,push` → access; the name may itself hold a `:` (`repository(plugin)`). */
function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first < 0 || last === first) return undefined;
  const actions = scope
    .slice(last + 1)
    .split(",")
    .filter(Boolean);
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

function scopesOf(values: string[]): Access[] {
  return values
    .flatMap((value) => value.split(" "))
    .map(parseScope)
    .filter((access): access is Access => access !== undefined);
}

function unauthorized(response: ServerResponse, message: string): void {
  sendJson(
    response,
    401,
    { errors: [{ code: "UNAUTHORIZED", message }] },
    { "www-authenticate": 'Basic realm="acr"' },
  );
}

export async function startAcrTokenServer(options: AcrTokenServerOptions): Promise<AcrTokenServer> {
  const crypto = webcrypto;
  const issuer = options.issuer ?? "acr-token-server";
  const accessSeconds = options.accessTokenSeconds ?? 300;
  const refreshMs = (options.refreshTokenSeconds ?? 3 * 60 * 60) * 1000;
  const keys = await crypto.subtle.generateKey(signing, true, ["sign", "verify"]);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomBytes(8)
        .toString("hex")
        .replace(/^[89a-f]/, "1"),
      name: "CN=ACR token signing",
      notBefore: new Date(now - hourMs),
      notAfter: new Date(now + 24 * hourMs),
      keys,
      signingAlgorithm: signing,
      extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
    },
    crypto,
  );
  const spki = Buffer.from(await crypto.subtle.exportKey("spki", keys.publicKey));
  const tokenHeader = base64url(
    JSON.stringify({
      typ: "JWT",
      alg: "ES256",
      kid: libtrustKeyId(spki),
      x5c: [Buffer.from(certificate.rawData).toString("base64")],
    }),
  );
  const refreshTokens = new Map<string, number>();
  const journal: TokenServerRequest[] = [];

  async function accessToken(subject: string, access: Access[]): Promise<string> {
    const issuedAt = Math.floor(Date.now() / 1000);
    const claims = {
      iss: issuer,
      sub: subject,
      aud: options.service,
      exp: issuedAt + accessSeconds,
      nbf: issuedAt,
      iat: issuedAt,
      jti: randomBytes(12).toString("hex"),
      access,
    };
    const signed = `${tokenHeader}.${base64url(JSON.stringify(claims))}`;
    // WebCrypto's ECDSA signature is r || s, the form JWS wants.
    const signature = await crypto.subtle.sign(signing, keys.privateKey, Buffer.from(signed));
    return `${signed}.${base64url(Buffer.from(signature))}`;
  }

  function validRefreshToken(token: string | undefined): boolean {
    const expires = token === undefined ? undefined : refreshTokens.get(token);
    return expires !== undefined && expires > Date.now();
  }

  async function answerToken(
    response: ServerResponse,
    scopes: string[],
    service: string | null,
  ): Promise<void> {
    if (service !== null && service !== options.service) {
      sendJson(response, 400, {
        errors: [{ code: "INVALID_SERVICE", message: `unknown service ${service}` }],
      });
      return;
    }
    const token = await accessToken(ACR_REFRESH_TOKEN_USER, scopesOf(scopes));
    sendJson(response, 200, {
      access_token: token,
      token,
      expires_in: accessSeconds,
      issued_at: new Date().toISOString(),
    });
  }

  async function handle(
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<string | undefined> {
    const url = new URL(request.url ?? "/", "https://localhost");
    const isForm = (request.headers["content-type"] ?? "").startsWith(
      "application/x-www-form-urlencoded",
    );
    const form =
      request.method === "POST" && isForm
        ? new URLSearchParams((await readBody(request)).toString("utf8"))
        : undefined;

    if (url.pathname === "/oauth2/exchange" && request.method === "POST") {
      const grant = form?.get("grant_type") ?? undefined;
      if (grant !== "access_token") {
        sendJson(response, 400, {
          errors: [{ code: "UNSUPPORTED_GRANT", message: "grant_type must be access_token" }],
        });
        return grant;
      }
      if (form?.get("service") !== options.service) {
        sendJson(response, 400, {
          errors: [{ code: "INVALID_SERVICE", message: `service must be ${options.service}` }],
        });
        return grant;
      }
      const token = form.get("access_token") ?? "";
      if (!options.verifyAccessToken(token)) {
        unauthorized(response, "the access token was not accepted");
        return grant;
      }
      const refreshToken = randomBytes(32).toString("base64url");
      refreshTokens.set(refreshToken, Date.now() + refreshMs);
      sendJson(response, 200, { refresh_token: refreshToken });
      return grant;
    }

    if (url.pathname === "/oauth2/token" && request.method === "GET") {
      const header = request.headers.authorization ?? "";
      const match = /^Basic\s+(.+)$/i.exec(header);
      const [user, ...rest] = match
        ? Buffer.from(match[1], "base64").toString("utf8").split(":")
        : [];
      if (user !== ACR_REFRESH_TOKEN_USER || !validRefreshToken(rest.join(":"))) {
        unauthorized(response, "a refresh token (with the all-zero user name) is required");
        return "basic";
      }
      await answerToken(
        response,
        url.searchParams.getAll("scope"),
        url.searchParams.get("service"),
      );
      return "basic";
    }

    if (url.pathname === "/oauth2/token" && request.method === "POST") {
      const grant = form?.get("grant_type") ?? undefined;
      if (
        grant !== "refresh_token" ||
        !validRefreshToken(form?.get("refresh_token") ?? undefined)
      ) {
        unauthorized(response, "grant_type=refresh_token with a valid refresh token is required");
        return grant;
      }
      await answerToken(response, form!.getAll("scope"), form!.get("service"));
      return grant;
    }

    sendJson(response, 404, {
      errors: [{ code: "NOT_FOUND", message: `${request.method} ${url.pathname}` }],
    });
    return undefined;
  }

  const server: Server = createServer(
    { key: options.key, cert: options.cert },
    (request, response) => {
      handle(request, response).then(
        (grant) =>
          journal.push({
            method: request.method ?? "",
            path: (request.url ?? "").split("?")[0],
            grant,
            status: response.statusCode,
          }),
        () => {
          if (!response.headersSent)
            sendJson(response, 500, {
              errors: [{ code: "INTERNAL", message: "token server error" }],
            });
          else response.destroy();
        },
      );
    },
  );
  const sockets = trackSockets(server);
  const port = await listenOnLoopback(server);
  const url = `https://127.0.0.1:${port}`;
  return {
    url,
    realm: `${url}/oauth2/token`,
    issuer,
    service: options.service,
    rootCertPem: certificate.toString("pem") + "\n",
    requests: () => [...journal],
    stop: () => closeServer(server, sockets),
  };
}
