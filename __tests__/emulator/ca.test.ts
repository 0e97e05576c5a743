import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request, createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificateAuthority } from "../../emulator/ca.ts";
import type { CertificateAuthority, IssuedCertificate } from "../../emulator/contracts.ts";

let dir: string;
let ca: CertificateAuthority;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "aca-ca-"));
  ca = await createCertificateAuthority(join(dir, "nested"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Serves one HTTPS answer with the certificate and returns what a verifying client saw. */
async function fetchOverTls(
  issued: IssuedCertificate,
  servername: string | undefined,
): Promise<string> {
  const server: Server = createServer({ cert: issued.cert, key: issued.key }, (_req, res) =>
    res.end("trusted"),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, servername, ca: ca.caPem, agent: false },
        (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => (body += chunk.toString()));
          res.on("end", () => resolve(body));
        },
      );
      req.on("error", reject);
      req.end();
    });
  } finally {
    server.close();
  }
}

describe("emulator certificate authority", () => {
  it("writes its CA certificate to ca.pem, marked as a CA that signs certificates", async () => {
    expect(ca.caFile).toBe(join(dir, "nested", "ca.pem"));
    expect(await readFile(ca.caFile, "utf8")).toBe(ca.caPem);
    const cert = new X509Certificate(ca.caPem);
    expect(cert.ca).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 365 * 86_400_000);
  });

  it("issues leaf certificates for wildcard DNS names and IP addresses, signed by the CA", async () => {
    const issued = await ca.issue([
      "*.blue-sea.azurecontainerapps.test",
      "*.internal.blue-sea.azurecontainerapps.test",
      "127.0.0.1",
    ]);
    const leaf = new X509Certificate(issued.cert);
    const caCert = new X509Certificate(ca.caPem);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.checkHost("web.blue-sea.azurecontainerapps.test")).toBe(
      "*.blue-sea.azurecontainerapps.test",
    );
    expect(leaf.checkHost("web.internal.blue-sea.azurecontainerapps.test")).toBe(
      "*.internal.blue-sea.azurecontainerapps.test",
    );
    expect(leaf.checkHost("web.other.azurecontainerapps.test")).toBeUndefined();
    expect(leaf.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(leaf.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(new Date(leaf.validFrom).getTime()).toBeLessThan(Date.now());
  });

  it("issues certificates Node's TLS client trusts for the names they cover, and only those", async () => {
    const issued = await ca.issue(["*.blue-sea.azurecontainerapps.test", "127.0.0.1"]);
    await expect(fetchOverTls(issued, "web.blue-sea.azurecontainerapps.test")).resolves.toBe(
      "trusted",
    );
    // No SNI: the client checks the certificate against the IP address it dialled.
    await expect(fetchOverTls(issued, undefined)).resolves.toBe("trusted");
    await expect(fetchOverTls(issued, "web.elsewhere.test")).rejects.toMatchObject({
      code: "ERR_TLS_CERT_ALTNAME_INVALID",
    });
  });
});
