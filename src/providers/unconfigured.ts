// Which providers that apps actually use have no secret configured. Such a provider refuses every
// delivery (answered as a forged request would be), which is safe but silent for whoever set the app up, so the
// server warns at start-up and `apps create` / `apps add-number` warn on the spot. Pure: plain data in.
import type { ProviderSettings } from "../config.js";
import { PROVIDER_DESCRIPTORS } from "./index.js";
import type { ProviderName } from "./registry.js";

/** The environment variable that gives each provider its secret (its descriptor's, any one of them). */
export const PROVIDER_SECRET_VARIABLE = Object.fromEntries(
  PROVIDER_DESCRIPTORS.map((p) => [p.name, p.secretVariables.join(" or ")]),
) as Readonly<Record<ProviderName, string>>;

/** Whether each provider has at least one secret (the generic one: configured or generated in DATA_DIR). */
export function configuredProviders(settings: ProviderSettings, genericSecrets: readonly string[]): Readonly<Record<ProviderName, boolean>> {
  return Object.fromEntries(
    PROVIDER_DESCRIPTORS.map((p) => [p.name, p.configured(settings, { genericWebhookSecrets: genericSecrets })]),
  ) as Record<ProviderName, boolean>;
}

export type UnconfiguredProvider = { provider: string; variable: string; apps: string[] };

/**
 * The providers named by the apps' numbers that have no secret, each with the names of the apps
 * that use it (sorted, once each), in the order of the first app that uses it.
 */
export function unconfiguredProviders(
  apps: readonly { name: string; numbers: readonly { provider: string }[] }[],
  configured: Readonly<Record<string, boolean>>,
): UnconfiguredProvider[] {
  const byProvider = new Map<string, Set<string>>();
  for (const app of apps) {
    for (const number of app.numbers) {
      if (configured[number.provider] !== false) continue; // configured, or unknown to this version
      const names = byProvider.get(number.provider) ?? new Set<string>();
      names.add(app.name);
      byProvider.set(number.provider, names);
    }
  }
  return [...byProvider].map(([provider, names]) => ({
    provider,
    variable: PROVIDER_SECRET_VARIABLE[provider as ProviderName] ?? `the ${provider} secret`,
    apps: [...names].sort(),
  }));
}

/** One sentence per unconfigured provider, for a log line or the command line. */
export function describeUnconfigured(entry: UnconfiguredProvider): string {
  const apps = entry.apps.length === 1 ? `app "${entry.apps[0]}"` : `${entry.apps.length} apps (${entry.apps.map((a) => `"${a}"`).join(", ")})`;
  return (
    `${entry.variable} is not set, but ${apps} ${entry.apps.length === 1 ? "receives" : "receive"} SMS through the ${entry.provider} provider: ` +
    `every delivery to /v1/inbound/${entry.provider} is refused (as a forged request is) until it is set`
  );
}
