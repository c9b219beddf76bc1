// The provider adapters, by name, built from configuration. A provider without its secret is still
// registered: it refuses every delivery (nothing is accepted unchecked).
import type { ProviderSettings } from "../config.js";
import { createBirdAdapter } from "./bird.js";
import { createGenericAdapter } from "./generic.js";
import { createInfobipAdapter } from "./infobip.js";
import { createMessageBirdAdapter } from "./messagebird.js";
import { createPlivoAdapter } from "./plivo.js";
import type { ProviderAdapter } from "./provider.js";
import { createSinchAdapter } from "./sinch.js";
import { createSmsmodeAdapter } from "./smsmode.js";
import { createTelnyxAdapter } from "./telnyx.js";
import { createTwilioAdapter } from "./twilio.js";
import { createVonageAdapter } from "./vonage.js";

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

export function createProviderRegistry(
  settings: ProviderSettings & {
    genericWebhookSecrets: readonly string[];
    /** Keys the message ids that adapters derive when a provider gives none (smsmode API 2.7). */
    messageIdKey: string;
  },
): ReadonlyMap<string, ProviderAdapter> {
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
