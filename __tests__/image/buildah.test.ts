/**
 * A real build with buildah (chroot isolation, vfs storage in a temporary folder) pushed to a real
 * registry with TLS and a user name and password.
 */
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificateAuthority } from "../../emulator/ca.ts";
import { buildAndPush } from "../../src/image/buildAndPush.ts";
import { resolveManifestDigest } from "../../src/image/registry.ts";
import type { BuildLog, BuildRequest } from "../../src/image/types.ts";
import {
  fetchTrusting,
  freePort,
  missingTools,
  registryDigest,
  registryLabels,
  startLocalRegistry,
  writeContext,
  type LocalRegistry,
} from "./localRegistry.ts";

const missing = missingTools();
if (missing.length > 0) {
  console.warn(
    `Skipping the buildah build tests: ${missing.join(" and ")} not installed (apt-get install buildah docker-registry).`,
  );
}
const describeWithTools = missing.length === 0 ? describe : describe.skip;

const USER = "builder";
const PASSWORD = "s3cret-registry-password";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

function recordingLog(): BuildLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (line) => lines.push(line),
    error: (line) => lines.push(`ERROR ${line}`),
    group: async (title, fn) => {
      lines.push(`GROUP ${title}`);
      return fn();
    },
  };
}

describeWithTools("buildah build and push to a registry with TLS and a password", () => {
  let dir: string;
  let registry: LocalRegistry;
  let certDir: string;
  let trusting: ReturnType<typeof fetchTrusting>;
  const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "buildah-test-"));
    const ca = await createCertificateAuthority(join(dir, "ca"));
    const leaf = await ca.issue(["127.0.0.1"]);
    certDir = join(dir, "certs");
    await mkdir(certDir);
    await writeFile(join(certDir, "ca.crt"), ca.caPem);
    trusting = fetchTrusting(ca.caPem);
    registry = await startLocalRegistry({
      dir: join(dir, "registry"),
      port: await freePort(),
      cert: leaf.cert,
      key: leaf.key,
      caPem: ca.caPem,
      auth: { htpasswd: { username: USER, password: PASSWORD } },
    });
  });

  afterAll(async () => {
    await registry?.stop();
    await trusting?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function request(context: string, overrides: Partial<BuildRequest> = {}): BuildRequest {
    return {
      context,
      dockerfile: join(context, "Dockerfile"),
      buildArgs: { GREETING: "hello" },
      registry: registry.host,
      imageName: "team/web",
      tag: "v1",
      builder: "buildah",
      auth: { kind: "password", username: USER, password: PASSWORD },
      source: "https://github.com/contoso/web",
      revision: COMMIT,
      certDir,
      storage: { root: join(dir, "storage", "root"), runRoot: join(dir, "storage", "run") },
      ...overrides,
    };
  }

  test("pushes the image and returns the digest the registry serves it under, with OCI labels", async () => {
    const context = await writeContext(
      join(dir, "ok"),
      "FROM scratch\nARG GREETING\nCOPY hello.txt /hello.txt\n",
    );
    const log = recordingLog();

    const result = await buildAndPush(request(context), { log });

    const served = await registryDigest(trusting.fetch, registry.host, "team/web", "v1", basic);
    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.digest).toBe(served);
    expect(result.image).toBe(`${registry.host}/team/web@${served}`);
    expect(result).toMatchObject({ tag: "v1", builder: "buildah" });

    const labels = await registryLabels(
      trusting.fetch,
      registry.host,
      "team/web",
      result.digest,
      basic,
    );
    expect(labels["org.opencontainers.image.source"]).toBe("https://github.com/contoso/web");
    expect(labels["org.opencontainers.image.revision"]).toBe(COMMIT);
    expect(Date.parse(labels["org.opencontainers.image.created"])).not.toBeNaN();

    expect(log.lines).toContain(`GROUP Build and push ${registry.host}/team/web:v1 with buildah`);
    expect(log.lines.some((line) => line.startsWith("STEP 2/"))).toBe(true);
    expect(log.lines.join("\n")).not.toContain(PASSWORD);

    // The fallback the docker builder uses reads the same digest through the registry's Basic auth.
    const resolved = await resolveManifestDigest({
      registry: registry.host,
      repository: "team/web",
      reference: "v1",
      credentials: { username: USER, password: PASSWORD },
      fetch: trusting.fetch,
    });
    expect(resolved).toBe(result.digest);
  });

  test("a failing build names the failing step and shows buildah's error", async () => {
    const context = await writeContext(
      join(dir, "broken"),
      "FROM scratch\nCOPY missing.txt /missing.txt\n",
    );
    const log = recordingLog();

    const failure = buildAndPush(request(context, { tag: "broken" }), { log });

    await expect(failure).rejects.toThrow(
      /buildah build of .* failed at step "COPY missing\.txt \/missing\.txt"/,
    );
    await expect(failure).rejects.toThrow(/no such file or directory/);
    const served = await registryDigest(trusting.fetch, registry.host, "team/web", "broken", basic);
    expect(served).toBeNull();
  });

  test("a wrong password fails the login, and the password appears in neither the error nor the log", async () => {
    const context = await writeContext(
      join(dir, "denied"),
      "FROM scratch\nCOPY hello.txt /hello.txt\n",
    );
    const log = recordingLog();
    const wrong = "wrong-password-value";

    const failure = buildAndPush(
      request(context, {
        tag: "denied",
        auth: { kind: "password", username: USER, password: wrong },
      }),
      { log },
    );

    await expect(failure).rejects.toThrow(/buildah login to 127\.0\.0\.1:\d+ failed/);
    const message = await failure.catch((error: Error) => error.message);
    expect(message).not.toContain(wrong);
    expect(log.lines.join("\n")).not.toContain(wrong);
  });
});
