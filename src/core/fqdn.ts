import { appFqdn } from "./naming.ts";
import type { AppState, ContainerAppsPort } from "./ports.ts";

/**
 * The app's ingress host name: as the service reports it, or, when it does not, built from the
 * environment's default domain. Undefined for an app without ingress.
 */
export async function ingressFqdn(
  apps: ContainerAppsPort,
  app: AppState,
): Promise<string | undefined> {
  if (!app.ingress) return undefined;
  if (app.ingress.fqdn) return app.ingress.fqdn;
  const domain = await apps.getDefaultDomain(app.environmentId ?? "");
  return appFqdn(app.name, domain, app.ingress.external);
}
