/**
 * A real OCI registry (Debian's `docker-registry`, i.e. distribution) on 127.0.0.1 with TLS and
 * authentication, in a temporary folder, for the build tests. Also the tools those tests need.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { Agent, fetch as undiciFetch } from "undici";

/** Why the real build tests cannot run here, or an empty list when they can. */
export function missingTools(): string[] {
  const missing: string[] = [];
  if (spawnSync("buildah", ["--version"]).status !== 0) missing.push("buildah");
  if (spawnSync("docker-registry", ["--version"]).status !== 0) missing.push("docker-registry");
  return missing;
}

/** A port nobody listens on right now (the registry takes its port from its config file). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A fetch that trusts the test CA. */
export function fetchTrusting(caPem: string): { fetch: typeof fetch; close(): Promise<void> } {
  const dispatcher = new Agent({ connect: { ca: caPem } });
  const trusting = ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(input as string, { ...(init as object), dispatcher })) as unknown as typeof fetch;
  return { fetch: trusting, close: () => dispatcher.close() };
}

export type RegistryAuthConfig =
  | { htpasswd: { username: string; password: string } }
  | { token: { realm: string; service: string; issuer: string; rootCertPem: string } };

export interface LocalRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  stop(): Promise<void>;
}

export async function startLocalRegistry(options: {
  dir: string;
  port: number;
  cert: string;
  key: string;
  auth: RegistryAuthConfig;
  caPem: string;
}): Promise<LocalRegistry> {
  const { dir, port } = options;
  await mkdir(join(dir, "data"), { recursive: true });
  await writeFile(join(dir, "registry.crt"), options.cert);
  await writeFile(join(dir, "registry.key"), options.key);
  let auth: string;
  if ("htpasswd" in options.auth) {
    const { username, password } = options.auth.htpasswd;
    await writeFile(join(dir, "htpasswd"), `${username}:${bcrypt.hashSync(password, 5)}\n`);
    auth = `  htpasswd:\n    realm: test-registry\n    path: ${join(dir, "htpasswd")}\n`;
  } else {
    const token = options.auth.token;
    await writeFile(join(dir, "token-root.pem"), token.rootCertPem);
    auth =
      `  token:\n    realm: ${token.realm}\n    service: "${token.service}"\n    issuer: "${token.issuer}"\n` +
      `    rootcertbundle: ${join(dir, "token-root.pem")}\n`;
  }
  const config =
    `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n` +
    `storage:\n  filesystem:\n    rootdirectory: ${join(dir, "data")}\n` +
    `http:\n  addr: 127.0.0.1:${port}\n  secret: local-test-registry\n  tls:\n` +
    `    certificate: ${join(dir, "registry.crt")}\n    key: ${join(dir, "registry.key")}\n` +
    `auth:\n${auth}`;
  await writeFile(join(dir, "config.yml"), config);

  const logFile = join(dir, "registry.log");
  const child: ChildProcess = spawn("docker-registry", ["serve", join(dir, "config.yml")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const trusting = fetchTrusting(options.caPem);
  const deadline = Date.now() + 20_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`docker-registry exited at start:\n${log}`);
      const status = await trusting
        .fetch(`https://127.0.0.1:${port}/v2/`)
        .then((response) => response.status)
        .catch(() => 0);
      if (status === 401) break;
      if (Date.now() > deadline)
        throw new Error(`docker-registry did not answer on port ${port}:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    throw error;
  } finally {
    await trusting.close();
  }

  return {
    host: `127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      await writeFile(logFile, log);
    },
  };
}

/** The digest the registry itself reports for a tag (`Docker-Content-Digest` of a HEAD). */
export async function registryDigest(
  fetchImpl: typeof fetch,
  host: string,
  repository: string,
  tag: string,
  authorization: string,
): Promise<string | null> {
  const response = await fetchImpl(`https://${host}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: {
      authorization,
      accept:
        "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
    },
  });
  return response.headers.get("docker-content-digest");
}

/** The image config's labels, read from the registry: manifest, then config blob. */
export async function registryLabels(
  fetchImpl: typeof fetch,
  host: string,
  repository: string,
  reference: string,
  authorization: string,
): Promise<Record<string, string>> {
  const manifest = (await (
    await fetchImpl(`https://${host}/v2/${repository}/manifests/${reference}`, {
      headers: {
        authorization,
        accept:
          "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
      },
    })
  ).json()) as { config: { digest: string } };
  const config = (await (
    await fetchImpl(`https://${host}/v2/${repository}/blobs/${manifest.config.digest}`, {
      headers: { authorization },
    })
  ).json()) as { config?: { Labels?: Record<string, string> } };
  return config.config?.Labels ?? {};
}

/** Writes the build context of the tests: a tiny image from scratch. */
export async function writeContext(dir: string, dockerfile: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "hello.txt"), "hello from the build context\n");
  await writeFile(join(dir, "Dockerfile"), dockerfile);
  return dir;
}
