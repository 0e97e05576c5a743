/** Shared fixtures of the Azure-layer tests against the emulator. */
import { createMonitorClients, type MonitorClients } from "../../src/azure/logAnalytics.ts";
import type { EmulatorInfo } from "../../emulator/index.ts";
import { managementScope, secretCredential } from "../emulator/support.ts";

/** The Monitor and Log Analytics clients of a connection, pointed at the emulator. */
export function monitorClients(info: EmulatorInfo): MonitorClients {
  return createMonitorClients({
    credential: secretCredential(info),
    subscriptionId: info.subscriptionId,
    armEndpoint: info.arm,
    armScope: managementScope,
    logAnalytics: `${info.arm}/loganalytics`,
    userAgent: "aca-blue-green-test",
  });
}
