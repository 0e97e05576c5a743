/**
 * The parts of the registry protocol (OCI distribution) the builders need beyond the build tools:
 * answering an auth challenge with a bearer token, and reading a manifest digest with HEAD.
 */
import { parseAuthChallenge, type AuthChallenge } from "../azure/authChallenge.ts";

export { isAcrLoginServer } from "../core/naming.ts";

/** The media types a manifest HEAD accepts, so the registry answers for any kind of image. */
export const MANIFEST_MEDIA_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
];

export interface Credentials {
  username: string;
  password: string;
}

export type Fetch = typeof fetch;

function basic(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
}

/** Answers a bearer challenge: asks the token server named by `realm` for a token for `scope`. */
export async function fetchBearerToken(
  challenge: AuthChallenge,
  scope: string,
  credentials: Credentials | undefined,
  fetchImpl: Fetch,
): Promise<string> {
  const realm = challenge.params.realm;
  if (!realm) throw new Error("The registry asked for a bearer token but named no token server.");
  const url = new URL(realm);
  if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
  url.searchParams.set("scope", scope);
  const response = await fetchImpl(url, {
    headers: credentials ? { authorization: basic(credentials) } : {},
  });
  if (!response.ok) {
    throw new Error(
      `The registry token server ${url.origin} refused a token: HTTP ${response.status}.`,
    );
  }
  const body = (await response.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw new Error(`The registry token server ${url.origin} answered without a token.`);
  return token;
}

export interface ManifestDigestRequest {
  registry: string;
  repository: string;
  /** Tag or digest. */
  reference: string;
  credentials?: Credentials;
  fetch?: Fetch;
}

/** Reads the digest of a manifest from the registry (`Docker-Content-Digest` of a HEAD). */
export async function resolveManifestDigest(request: ManifestDigestRequest): Promise<string> {
  const fetchImpl = request.fetch ?? fetch;
  const url = `https://${request.registry}/v2/${request.repository}/manifests/${request.reference}`;
  const accept = MANIFEST_MEDIA_TYPES.join(", ");
  let response = await fetchImpl(url, { method: "HEAD", headers: { accept } });
  if (response.status === 401) {
    const challenge = parseAuthChallenge(response.headers.get("www-authenticate"));
    let authorization: string | undefined;
    if (challenge?.scheme === "bearer") {
      const scope = `repository:${request.repository}:pull`;
      const token = await fetchBearerToken(challenge, scope, request.credentials, fetchImpl);
      authorization = `Bearer ${token}`;
    } else if (challenge?.scheme === "basic" && request.credentials) {
      authorization = basic(request.credentials);
    }
    if (authorization) {
      response = await fetchImpl(url, { method: "HEAD", headers: { accept, authorization } });
    }
  }
  if (!response.ok) {
    throw new Error(
      `Could not read the digest of ${request.registry}/${request.repository}:${request.reference}: HTTP ${response.status}.`,
    );
  }
  const digest = response.headers.get("docker-content-digest");
  if (!digest || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
    throw new Error(
      `The registry ${request.registry} did not return a manifest digest for ${request.repository}:${request.reference}.`,
    );
  }
  return digest;
}
