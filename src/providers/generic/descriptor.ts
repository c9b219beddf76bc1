// The generic provider: Standard Webhooks in, a signed POST out. Its secret may also be generated
// and kept in DATA_DIR in embedded mode, so its adapter takes the secrets runtime.ts settled on.
import { createHttpSender } from "../../outbound/sms-sender.js";
import { httpUrl, secretList } from "../../shared/config-schemas.js";
import { randomBytesBase64 } from "../../shared/crypto.js";
import { standardWebhooksSecretProblem } from "../../shared/secret-strength.js";
import { defineProvider, orUnknown } from "../descriptor.js";
import { createGenericAdapter } from "./adapter.js";
import { parseGenericReport } from "./delivery-report.js";
import { openapi } from "./openapi.js";
import { genericProtocol } from "./sender.js";

export const generic = defineProvider({
  name: "generic",
  displayName: "Generic",
  docs: "docs/providers/generic.md",
  authentication: "Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (HMAC-SHA256 over id, timestamp and body)",
  pathToken: "never",
  secretVariables: ["GENERIC_WEBHOOK_SECRET"],
  config: {
    inbound: {
      GENERIC_WEBHOOK_SECRET: {
        description:
          "`whsec_…` secrets of the generic provider, comma-separated for rotation; generated and kept in `DATA_DIR` in embedded mode when not given",
        schema: secretList(standardWebhooksSecretProblem, 'make one with `echo "whsec_$(openssl rand -base64 32)"`').optional(),
      },
    },
    outbound: {
      GENERIC_OUTBOUND_URL: {
        description: "where the generic provider sends: a signed POST of `{ messageId, from, to, text }` (Standard Webhooks, first GENERIC_WEBHOOK_SECRET); any 2xx is accepted",
        schema: httpUrl.optional(),
      },
    },
  },
  // Its secrets are Config.genericWebhookSecrets (src/config.ts), completed by runtime.ts.
  inbound: () => ({}),
  outbound: (p) => ({ genericUrl: p.GENERIC_OUTBOUND_URL }),
  configured: (_s, context) => context.genericWebhookSecrets.length > 0,
  adapter: (_s, context) => createGenericAdapter(orUnknown(context.genericWebhookSecrets, () => `whsec_${randomBytesBase64(32)}`)),
  sender: ({ outbound }, context) =>
    createHttpSender(genericProtocol, { url: outbound.genericUrl, secret: context.genericWebhookSecrets[0], now: context.now }, context.options),
  parseDeliveryReport: parseGenericReport,
  openapi,
});
