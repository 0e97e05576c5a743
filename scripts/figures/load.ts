/**
 * Zero downtime: a bounded, steady load on the app's public URL (one request at a time through the
 * emulator's proxy, loopback only) while a stepped deploy runs, counted from the emulator's
 * ingress journal. Two figures: failed requests during a healthy deploy, and failed requests once a
 * failed deploy has restored the traffic (both goal 0). The failed deploy's own window, when users
 * on the candidate's share met its errors until the checks caught them, is shown beside them.
 */
import { startLoad } from "../../emulator/rehearsal.ts";
import type { Emulator, IngressJournalEntry } from "../../emulator/types.ts";
import {
  FAST_INPUTS,
  RESOURCE_GROUP,
  credsInputs,
  image,
  newJob,
  revisionsOf,
  runBundle,
  seedRolloutApp,
  startWorld,
} from "./world.ts";

export interface LoadFigure {
  scenario: string;
  /** Requests the load sent in the window, and how many of them failed (5xx or unanswered). */
  requests: number;
  failed: number;
  goal?: number;
  exitCode: number | null;
  result?: string;
}

const failedRequest = (e: IngressJournalEntry) => e.status >= 500 || e.revision === null;

function window(entries: IngressJournalEntry[], host: string, from: number, to: number) {
  const requests = entries.filter(
    (e) => e.host === host && e.route === "app" && e.time >= from && e.time <= to,
  );
  return { requests: requests.length, failed: requests.filter(failedRequest).length };
}

/** How long the load keeps going after a run ends, to see the traffic it left. */
const AFTER_MS = 1_500;

export async function runLoadFigures(): Promise<LoadFigure[]> {
  return [await healthyDeploy(), ...(await failedDeploy())];
}

async function withApp<T>(work: (emulator: Emulator, host: string) => Promise<T>): Promise<T> {
  const emulator = await startWorld();
  try {
    const view = await seedRolloutApp(emulator, "shop");
    return await work(emulator, view.fqdn);
  } finally {
    await emulator.stop();
  }
}

function inputs(emulator: Emulator, behaviour: string) {
  return {
    "container-app": "shop",
    image: image(behaviour),
    "revision-suffix": "v2",
    ...FAST_INPUTS,
    "step-wait": "1s",
    ...credsInputs(emulator),
  };
}

async function healthyDeploy(): Promise<LoadFigure> {
  return withApp(async (emulator, host) => {
    const load = startLoad(emulator.info, host, { intervalMs: 10, maxRequests: 5_000 });
    const from = Date.now();
    const run = await runBundle(emulator, {
      inputs: inputs(emulator, "healthy-v2"),
      job: newJob(),
    });
    await new Promise((resolve) => setTimeout(resolve, AFTER_MS));
    await load.stop();
    return {
      scenario: "A healthy deploy through 10%, 50%, 100%, and the old revisions retired",
      ...window(emulator.ingressJournal(), host, from, Date.now()),
      goal: 0,
      exitCode: run.exitCode,
      result: run.outputs.result,
    };
  });
}

async function failedDeploy(): Promise<LoadFigure[]> {
  return withApp(async (emulator, host) => {
    const { candidate } = revisionsOf("shop");
    const load = startLoad(emulator.info, host, { intervalMs: 10, maxRequests: 5_000 });
    const from = Date.now();
    let broken = 0;
    let restored = 0;
    const pending: Promise<void>[] = [];
    const run = await runBundle(emulator, {
      inputs: inputs(emulator, "healthy-v2"),
      job: newJob(),
      onLine: (text) => {
        if (!broken && /^\[2\/3\] /.test(text)) {
          broken = Date.now();
          pending.push(emulator.setRevisionBehaviour(RESOURCE_GROUP, "shop", candidate, "http500"));
        }
        if (!restored && text.startsWith("Traffic restored")) restored = Date.now();
      },
    });
    await Promise.all(pending);
    await new Promise((resolve) => setTimeout(resolve, AFTER_MS));
    await load.stop();
    const to = Date.now();
    const entries = emulator.ingressJournal();
    return [
      {
        scenario:
          "The same deploy with the candidate failing at 50%: from the failure until the traffic is restored (the candidate's share meets its errors)",
        ...window(entries, host, broken || from, restored || to),
        exitCode: run.exitCode,
        result: run.outputs.result,
      },
      {
        scenario: "The same failed deploy, once the traffic is restored",
        ...(restored ? window(entries, host, restored, to) : { requests: 0, failed: 0 }),
        goal: 0,
        exitCode: run.exitCode,
        result: restored ? run.outputs.result : "never restored",
      },
    ];
  });
}
