/**
 * Names the service makes up for what it creates: the default domain of a managed environment,
 * the suffix of a revision the client did not name, and the name of a revision's replica.
 */
import { createHash, randomBytes } from "node:crypto";

/** Seven random lower case letters and digits, like the suffixes the service picks. */
export function randomRevisionSuffix(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(7)].map((byte) => alphabet[byte % alphabet.length]).join("");
}

/** `<revision>-<10 characters>-<5 characters>`, shaped like the pod behind a service replica. */
export function replicaNameFor(revisionName: string): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  const random = [...randomBytes(15)].map((byte) => alphabet[byte % alphabet.length]).join("");
  return `${revisionName}-${random.slice(0, 10)}-${random.slice(10)}`;
}

const adjectives = [
  "brave",
  "calm",
  "eager",
  "gentle",
  "happy",
  "jolly",
  "lively",
  "proud",
  "quiet",
  "witty",
];
const nouns = [
  "river",
  "forest",
  "meadow",
  "ocean",
  "pebble",
  "island",
  "canyon",
  "glacier",
  "harbor",
  "valley",
];

/** `<adjective>-<noun>-<hash>.<location>.azurecontainerapps.test`, stable for an environment id. */
export function defaultDomainFor(environmentId: string, location: string): string {
  const hash = createHash("sha256").update(environmentId.toLowerCase()).digest();
  const region = location.toLowerCase().replace(/[^a-z0-9]/g, "");
  return (
    `${adjectives[hash[0] % adjectives.length]}-${nouns[hash[1] % nouns.length]}-` +
    `${hash.subarray(2, 6).toString("hex")}.${region}.azurecontainerapps.test`
  );
}
