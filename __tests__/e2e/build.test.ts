/**
 * A deploy from source, end to end on both hosts: the bundle builds with buildah, pushes to a real
 * registry (Debian's docker-registry, TLS and a password), and deploys the pushed digest to the
 * emulator.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificateAuthority } from "../../emulator/ca.ts";
import {
  fetchTrusting,
  freePort,
  missingTools,
  registryDigest,
  startLocalRegistry,
  writeContext,
  type LocalRegistry,
} from "../image/localRegistry.ts";
import { e2e } from "./fixtures/e2e.ts";
import type { ScenarioContext } from "./fixtures/scenario.ts";

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
  let dir: string;
  let registry: LocalRegistry;
  let registryCa: string;
  let storageConf: string;
  let trusting: ReturnType<typeof fetchTrusting>;
  /** Build contexts: one that builds, one whose Dockerfile copies a file that is not there. */
  let good: string;
  let broken: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "aca-bg-build-"));
    const ca = await createCertificateAuthority(join(dir, "ca"));
    const leaf = await ca.issue(["127.0.0.1"]);
    registryCa = ca.caPem;
    trusting = fetchTrusting(ca.caPem);
    registry = await startLocalRegistry({
      dir: join(dir, "registry"),
      port: await freePort(),
      cert: leaf.cert,
      key: leaf.key,
      caPem: ca.caPem,
      auth: { htpasswd: { username: USER, password: PASSWORD } },
    });
    storageConf = join(dir, "storage.conf");
    await writeFile(
      storageConf,
      `[storage]\ndriver = "vfs"\ngraphroot = "${join(dir, "storage", "root")}"\nrunroot = "${join(dir, "storage", "run")}"\n`,
    );
    good = await writeContext(join(dir, "app"), "FROM scratch\nCOPY hello.txt /hello.txt\n");
    broken = await writeContext(
      join(dir, "broken"),
      "FROM scratch\nCOPY missing.txt /missing.txt\n",
    );
  });

  afterAll(async () => {
    await registry?.stop();
    await trusting?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The run trusts the host's emulator's CA (Node) and the registry's (Node and buildah's Go TLS). */
  async function buildEnv(ctx: ScenarioContext) {
    const caBundle = join(dir, `ca-bundle-${ctx.host.name}.pem`);
    const emulatorCa = await readFile(ctx.emulator.info.caFile, "utf8");
    await writeFile(caBundle, `${emulatorCa}\n${registryCa}`);
    return {
      NODE_EXTRA_CA_CERTS: caBundle,
      SSL_CERT_FILE: caBundle,
      CONTAINERS_STORAGE_CONF: storageConf,
    };
  }

  e2e((scenario, host) => {
    scenario(
      "when the deploy builds from source, the new revision runs exactly the pushed digest",
      (s) => {
        const app = "shop-from-source";
        // Each host pushes a tag of its own, so that each proves the digest it pushed.
        const tag = `v2-${host.name}`;
        return s
          .given()
          .app(app)
          .env(buildEnv)
          .when()
          .deploys({
            "build-context": good,
            registry: registry.host,
            "image-name": "contoso/shop",
            "image-tag": tag,
            builder: "buildah",
            "registry-username": USER,
            "registry-password": PASSWORD,
            "revision-suffix": "v2",
            "step-wait": "0s",
            "smoke-timeout": "10s",
          })
          .then()
          .expectSucceeded()
          .expectRun(async (run, ctx) => {
            const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
            const digest = await registryDigest(
              trusting.fetch,
              registry.host,
              "contoso/shop",
              tag,
              basic,
            );
            const pushed = `${registry.host}/contoso/shop@${digest}`;
            expect(run.outputs.image).toBe(pushed);
            expect(ctx.view().revisions.find((r) => r.name === `${app}--v2`)?.image).toBe(pushed);
          })
          .expectGroups("Build and push")
          .expectLogHides(PASSWORD)
          .expectInvariants({
            traffic: [{ revisionName: `${app}--v2`, weight: 100, label: "blue" }],
          });
      },
    );

    scenario(
      "when the build fails, the deploy ends before any write to the app, with the builder's error",
      (s) =>
        s
          .given()
          .app("shop-broken-build")
          .env(buildEnv)
          .when()
          .runs(
            {
              "build-context": broken,
              registry: registry.host,
              "image-name": "contoso/shop",
              builder: "buildah",
              "registry-username": USER,
              "registry-password": PASSWORD,
            },
            { timed: false },
          )
          .then()
          .expectFailed()
          .expectLog("COPY missing.txt", /no such file or directory/i)
          .expectResult("failed")
          .expectNoAzureWrites()
          .expectApp((view) => expect(view.revisions).toHaveLength(1))
          .expectLogHides(PASSWORD)
          .expectInvariantsAsSeeded(),
    );
  });
});
