/**
 * The emulator's own certificate authority: one CA per emulator run, trusted by clients through
 * NODE_EXTRA_CA_CERTS (or an explicit `ca` option), and leaf certificates for ARM, Entra ID and
 * the ingress hostnames.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import type { CertificateAuthority, IssuedCertificate } from "./contracts.ts";

// ECDSA P-256 keys are generated in about a millisecond, so every leaf gets its own key.
const keyAlgorithm: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = {
  name: "ECDSA",
  namedCurve: "P-256",
  hash: "SHA-256",
};

const hourMs = 60 * 60 * 1000;
const dayMs = 24 * hourMs;

export async function createCertificateAuthority(dir: string): Promise<CertificateAuthority> {
  const crypto = webcrypto;
  const caKeys = await generateKeys(crypto);
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(crypto),
      name: "CN=Azure Container Apps Emulator CA, O=aca-blue-green",
      // Backdated so that a client whose clock is slightly behind still accepts it.
      notBefore: new Date(now - hourMs),
      notAfter: new Date(now + 3650 * dayMs),
      keys: caKeys,
      signingAlgorithm: keyAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const caPem = caCert.toString("pem") + "\n";
  await mkdir(dir, { recursive: true });
  const caFile = join(dir, "ca.pem");
  await writeFile(caFile, caPem);

  async function issue(names: string[]): Promise<IssuedCertificate> {
    if (names.length === 0) throw new Error("A certificate needs at least one DNS name or IP.");
    const leafKeys = await generateKeys(crypto);
    const issuedAt = Date.now();
    const leaf = await x509.X509CertificateGenerator.create(
      {
        serialNumber: randomSerial(crypto),
        subject: `CN=${names[0]}`,
        issuer: caCert.subject,
        notBefore: new Date(issuedAt - hourMs),
        notAfter: new Date(issuedAt + 365 * dayMs),
        publicKey: leafKeys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: keyAlgorithm,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension(
            names.map((name) => ({ type: isIP(name) ? "ip" : "dns", value: name })),
          ),
          await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey, false, crypto),
          await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
        ],
      },
      crypto,
    );
    const pkcs8 = await crypto.subtle.exportKey("pkcs8", leafKeys.privateKey);
    return {
      cert: leaf.toString("pem") + "\n",
      key: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") + "\n",
    };
  }

  return { caPem, caFile, issue };
}

function generateKeys(crypto: webcrypto.Crypto): Promise<webcrypto.CryptoKeyPair> {
  return crypto.subtle.generateKey(keyAlgorithm, true, ["sign", "verify"]);
}

/** A positive 64-bit serial (the high bit cleared keeps the DER integer positive). */
function randomSerial(crypto: webcrypto.Crypto): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  bytes[0] &= 0x7f;
  return Buffer.from(bytes).toString("hex");
}
