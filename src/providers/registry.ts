// The provider adapters, by name, built from configuration through the providers' list
// (src/providers/index.ts). A provider without its secret is still registered: it refuses every
// delivery (nothing is accepted unchecked), like a forged one.
import type { ProviderSettings } from "../config.js";
import type { AdapterContext } from "./descriptor.js";
import { PROVIDER_DESCRIPTORS } from "./index.js";
import type { ProviderAdapter } from "./provider.js";

export { PROVIDER_NAMES, type ProviderName } from "./index.js";

export type RegistrySettings = ProviderSettings & AdapterContext;

/**
 * A provider without its secret verifies with a secret that nobody knows, drawn at start-up and
 * never stored (each descriptor's `adapter`, with `orUnknown`): it refuses every delivery, and
 * answers a stranger exactly as a configured provider answers a forged request (same status, code,
 * detail and work). Answering `WEBHOOK_NOT_CONFIGURED` instead told anyone which providers an
 * instance is set up for; the operator still sees that code in the log line and the metrics (runtime.ts).
 */
export function createProviderRegistry(settings: RegistrySettings): ReadonlyMap<string, ProviderAdapter> {
  const adapters = PROVIDER_DESCRIPTORS.map((p) => p.adapter(settings, settings));
  return new Map(adapters.map((a) => [a.name, a]));
}

/**
 * What an operator must know at start-up about the providers configured, logged by the server:
 * conditions outside this service under which every delivery is refused on purpose.
 */
export function providerStartupNotices(settings: ProviderSettings): string[] {
  return PROVIDER_DESCRIPTORS.flatMap((p) => p.startupNotice?.(settings) ?? []);
}
