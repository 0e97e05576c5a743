/**
 * What the emulator saw: every ARM call and every ingress request, in order, so tests can prove
 * which writes a deployment made and where its traffic went.
 */
import type { ArmJournalEntry, IngressJournalEntry } from "./types.ts";

/** A long rehearsal keeps the most recent entries rather than growing without bound. */
const maxEntries = 50_000;

export class Journal {
  #arm: ArmJournalEntry[] = [];
  #ingress: IngressJournalEntry[] = [];

  recordArm(entry: ArmJournalEntry): void {
    append(this.#arm, entry);
  }

  recordIngress(entry: IngressJournalEntry): void {
    append(this.#ingress, entry);
  }

  arm(): ArmJournalEntry[] {
    return structuredClone(this.#arm);
  }

  ingress(): IngressJournalEntry[] {
    return structuredClone(this.#ingress);
  }

  clear(): void {
    this.#arm = [];
    this.#ingress = [];
  }
}

function append<T>(entries: T[], entry: T): void {
  entries.push(entry);
  if (entries.length > maxEntries) entries.splice(0, entries.length - maxEntries);
}
