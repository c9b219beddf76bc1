// The provider adapters, by name, built from configuration. A provider without its secret is still
// registered: it refuses every delivery (nothing is accepted unchecked), like a forged one.
import type { ProviderSettings } from "../config.js";
import { randomBytesBase64, randomEd25519PublicKey, randomSecret } from "../shared/crypto.js";
import { createBirdAdapter } from "./bird/adapter.js";
import { createGenericAdapter } from "./generic/adapter.js";
import { createInfobipAdapter } from "./infobip/adapter.js";
import { createMessageBirdAdapter } from "./messagebird/adapter.js";
import { createPlivoAdapter } from "./plivo/adapter.js";
import type { ProviderAdapter } from "./provider.js";
import { createSinchAdapter } from "./sinch/adapter.js";
import { createSmsmodeAdapter } from "./smsmode/adapter.js";
import { createTelnyxAdapter } from "./telnyx/adapter.js";
import { createTwilioAdapter } from "./twilio/adapter.js";
import { createVonageAdapter } from "./vonage/adapter.js";

export const PROVIDER_NAMES = [
  "generic",
  "twilio",
  "vonage",
  "plivo",
  "telnyx",
  "bird",
  "messagebird",
  "smsmode",
  "sinch",
  "infobip",
] as const;

export type ProviderName = (typeof PROVIDER_NAMES)[number];

export type RegistrySettings = ProviderSettings & {
  genericWebhookSecrets: readonly string[];
  /** Keys the message ids that adapters derive when a provider gives none (smsmode API 2.7). */
  messageIdKey: string;
};

/**
 * A provider without its secret verifies with a secret that nobody knows, drawn at start-up and
 * never stored: it refuses every delivery, and answers a stranger exactly as a configured
 * provider answers a forged request (same status, code, detail and work). Answering
 * `WEBHOOK_NOT_CONFIGURED` instead told anyone which providers an instance is set up for; the
 * operator still sees that code in the log line and the metrics (runtime.ts).
 */
function withUnknownSecrets(settings: RegistrySettings): RegistrySettings {
  const or = (secrets: readonly string[], make: () => string) => (secrets.length > 0 ? secrets : [make()]);
  return {
    ...settings,
    genericWebhookSecrets: or(settings.genericWebhookSecrets, () => `whsec_${randomBytesBase64(32)}`),
    twilioAuthTokens: or(settings.twilioAuthTokens, () => randomSecret()),
    vonageSignatureSecrets: or(settings.vonageSignatureSecrets, () => randomSecret()),
    plivoAuthTokens: or(settings.plivoAuthTokens, () => randomSecret()),
    telnyxPublicKeys: or(settings.telnyxPublicKeys, randomEd25519PublicKey),
    birdSigningKeys: or(settings.birdSigningKeys, () => randomSecret()),
    messagebirdSigningKeys: or(settings.messagebirdSigningKeys, () => randomSecret()),
    smsmodeTokens: or(settings.smsmodeTokens, () => randomSecret()),
    sinchTokens: or(settings.sinchTokens, () => randomSecret()),
    infobipTokens: or(settings.infobipTokens, () => randomSecret()),
  };
}

export function createProviderRegistry(configured: RegistrySettings): ReadonlyMap<string, ProviderAdapter> {
  const settings = withUnknownSecrets(configured);
  const adapters: ProviderAdapter[] = [
    createGenericAdapter(settings.genericWebhookSecrets),
    createTwilioAdapter({ authTokens: settings.twilioAuthTokens }),
    createVonageAdapter({ signatureSecrets: settings.vonageSignatureSecrets, signatureMethod: settings.vonageSignatureMethod }),
    createPlivoAdapter({ authTokens: settings.plivoAuthTokens, acceptV2: settings.plivoAcceptV2 }),
    createTelnyxAdapter({ publicKeys: settings.telnyxPublicKeys }),
    createBirdAdapter({ signingKeys: settings.birdSigningKeys }),
    createMessageBirdAdapter({ signingKeys: settings.messagebirdSigningKeys }),
    createSmsmodeAdapter({ tokens: settings.smsmodeTokens, messageIdKey: settings.messageIdKey }),
    createSinchAdapter({ tokens: settings.sinchTokens, signingSecrets: settings.sinchSigningSecrets }),
    createInfobipAdapter({ tokens: settings.infobipTokens }),
  ];
  return new Map(adapters.map((a) => [a.name, a]));
}

/**
 * What an operator must know at start-up about the providers configured, logged by the server:
 * conditions outside this service under which every delivery is refused on purpose.
 */
export function providerStartupNotices(settings: ProviderSettings): string[] {
  const notices: string[] = [];
  if (settings.vonageSignatureSecrets.length > 0) {
    notices.push(
      "vonage: SMS API webhooks are accepted only when signed, and Vonage signs them only after Vonage support has enabled signing on the account " +
        "(https://developer.vonage.com/en/getting-started/concepts/signing-messages): until then every SMS API delivery is refused with 401. " +
        "Messages API webhooks are always signed (JWT).",
    );
  }
  if (settings.sinchTokens.length > 0 && settings.sinchSigningSecrets.length === 0) {
    notices.push(
      "sinch: callbacks are checked by the secret path token only; ask your Sinch account manager to enable signed SMS callbacks and set SINCH_WEBHOOK_SECRET.",
    );
  }
  return notices;
}
