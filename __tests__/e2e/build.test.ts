/**
 * A deploy from source, end to end: the Action bundle builds with buildah, pushes to a real
 * registry (Debian's docker-registry, TLS and a password), and deploys the pushed digest to the
 * emulator.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificateAuthority } from "../../emulator/ca.ts";
import type { Emulator } from "../../emulator/types.ts";
import {
  fetchTrusting,
  freePort,
  missingTools,
  registryDigest,
  startLocalRegistry,
  writeContext,
  type LocalRegistry,
} from "../image/localRegistry.ts";
import {
  RESOURCE_GROUP,
  armWrites,
  expectInvariants,
  runAction,
  seedApp,
  startWorld,
  visibleLog,
} from "./harness.ts";

const missing = missingTools();
if (missing.length > 0) {
  console.warn(
    `Skipping the deploy-from-source tests: ${missing.join(" and ")} not installed (apt-get install buildah docker-registry).`,
  );
}
const describeWithTools = missing.length === 0 ? describe : describe.skip;

const USER = "deployer";
const PASSWORD = "registry-pa55-never-logged";

describeWithTools("Given an app and a registry with TLS and a password", () => {
  let emulator: Emulator;
  let dir: string;
  let registry: LocalRegistry;
  let caBundle: string;
  let storageConf: string;
  let trusting: ReturnType<typeof fetchTrusting>;

  beforeAll(async () => {
    emulator = await startWorld();
    dir = await mkdtemp(join(tmpdir(), "aca-bg-build-"));
    const ca = await createCertificateAuthority(join(dir, "ca"));
    const leaf = await ca.issue(["127.0.0.1"]);
    trusting = fetchTrusting(ca.caPem);
    registry = await startLocalRegistry({
      dir: join(dir, "registry"),
      port: await freePort(),
      cert: leaf.cert,
      key: leaf.key,
      caPem: ca.caPem,
      auth: { htpasswd: { username: USER, password: PASSWORD } },
    });
    // The Action trusts the emulator's CA (Node) and the registry's (Node and buildah's Go TLS).
    caBundle = join(dir, "ca-bundle.pem");
    const emulatorCa = await readFile(emulator.info.caFile, "utf8");
    await writeFile(caBundle, `${emulatorCa}\n${ca.caPem}`);
    storageConf = join(dir, "storage.conf");
    await writeFile(
      storageConf,
      `[storage]\ndriver = "vfs"\ngraphroot = "${join(dir, "storage", "root")}"\nrunroot = "${join(dir, "storage", "run")}"\n`,
    );
  });

  afterAll(async () => {
    await registry?.stop();
    await trusting?.close();
    await emulator?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function buildEnv() {
    return {
      NODE_EXTRA_CA_CERTS: caBundle,
      SSL_CERT_FILE: caBundle,
      CONTAINERS_STORAGE_CONF: storageConf,
    };
  }

  test("when the deploy builds from source, the new revision runs exactly the pushed digest", async () => {
    const app = "shop-from-source";
    await seedApp(emulator, app);
    const context = await writeContext(
      join(dir, "app"),
      "FROM scratch\nCOPY hello.txt /hello.txt\n",
    );
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        "build-context": context,
        registry: registry.host,
        "image-name": "contoso/shop",
        "image-tag": "v2",
        builder: "buildah",
        "registry-username": USER,
        "registry-password": PASSWORD,
        "revision-suffix": "v2",
        "step-wait": "0s",
        "smoke-timeout": "10s",
      },
      env: buildEnv(),
    });
    expect(run.exitCode).toBe(0);
    const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
    const digest = await registryDigest(trusting.fetch, registry.host, "contoso/shop", "v2", basic);
    const pushed = `${registry.host}/contoso/shop@${digest}`;
    expect(run.outputs.image).toBe(pushed);
    const view = expectInvariants(emulator, app, run, {
      traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
    });
    expect(view.revisions.find((r) => r.name === `${app}--v2`)?.image).toBe(pushed);
    expect(run.stdout).toContain("::group::Build and push");
    expect(visibleLog(run)).not.toContain(PASSWORD);
  });

  test("when the build fails, the deploy ends before any write to the app, with the builder's error", async () => {
    const app = "shop-broken-build";
    const view = await seedApp(emulator, app);
    const context = await writeContext(
      join(dir, "broken"),
      "FROM scratch\nCOPY missing.txt /missing.txt\n",
    );
    emulator.clearJournal();
    const run = await runAction(emulator, {
      inputs: {
        "container-app": app,
        "build-context": context,
        registry: registry.host,
        "image-name": "contoso/shop",
        builder: "buildah",
        "registry-username": USER,
        "registry-password": PASSWORD,
      },
      env: buildEnv(),
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("COPY missing.txt");
    expect(run.stdout).toMatch(/no such file or directory/i);
    expect(run.outputs.result).toBe("failed");
    expect(armWrites(emulator)).toEqual([]);
    expect(emulator.getApp(RESOURCE_GROUP, app).revisions).toHaveLength(1);
    expectInvariants(emulator, app, run, { traffic: view.traffic });
  });
});
