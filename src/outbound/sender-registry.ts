// The SMS senders by provider name, built from configuration: one sender per provider, sending as
// the app's virtual number through that number's provider. A provider without its sending
// credentials is still registered; it refuses every message (isConfigured is false), so a
// misconfiguration shows as refused deliveries, never as silence.
import type { OutboundSettings, ProviderSettings } from "../config.js";
import { PROVIDER_DESCRIPTORS } from "../providers/index.js";
import type { ProviderName } from "../providers/registry.js";
import type { FetchLike, SmsSender } from "./sms-sender.js";

export type SenderRegistry = ReadonlyMap<ProviderName, SmsSender>;

export type SenderRegistryDeps = {
  outbound: OutboundSettings;
  /** The inbound secrets: Twilio and Plivo send with their auth token; path tokens build DR URLs. */
  providers: ProviderSettings;
  genericWebhookSecrets: readonly string[];
  publicBaseUrl: string;
  now: () => Date;
  fetch?: FetchLike;
};

/**
 * Where a provider posts delivery reports of the messages we send: `/v1/delivery-reports/<provider>`,
 * with the provider's path token for providers that may sign nothing (their descriptor's `pathToken`:
 * Sinch, Infobip, smsmode), or undefined when such a provider has no token (its reports could not be
 * checked, so none is asked for).
 */
export function deliveryReportUrl(publicBaseUrl: string, provider: ProviderName, pathTokens: readonly string[] = []): string | undefined {
  const base = `${publicBaseUrl.replace(/\/+$/, "")}/v1/delivery-reports/${provider}`;
  if (PROVIDER_DESCRIPTORS.find((p) => p.name === provider)?.pathToken !== "never") {
    const token = pathTokens[0];
    return token ? `${base}/${token}` : undefined;
  }
  return base;
}

/** Each provider's sender, built by its descriptor (src/providers/<name>/descriptor.ts). */
export function createSenderRegistry(deps: SenderRegistryDeps): SenderRegistry {
  const options = { timeoutMs: deps.outbound.timeoutMs, ...(deps.fetch ? { fetch: deps.fetch } : {}) };
  const senders: SmsSender[] = PROVIDER_DESCRIPTORS.map((p) =>
    p.sender(
      { inbound: deps.providers, outbound: deps.outbound },
      {
        genericWebhookSecrets: deps.genericWebhookSecrets,
        deliveryReportUrl: (tokens) => deliveryReportUrl(deps.publicBaseUrl, p.name as ProviderName, tokens),
        now: deps.now,
        options,
      },
    ),
  );
  return new Map(senders.map((s) => [s.provider, s]));
}
