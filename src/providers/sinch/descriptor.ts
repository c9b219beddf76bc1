import { z } from "zod";
import { createHttpSender } from "../../outbound/sms-sender.js";
import { httpUrl, pathTokenList, providerSecretList } from "../../shared/config-schemas.js";
import { randomSecret } from "../../shared/crypto.js";
import { defineProvider, orUnknown } from "../descriptor.js";
import { createSinchAdapter } from "./adapter.js";
import { parseSinchReport } from "./delivery-report.js";
import { openapi } from "./openapi.js";
import { sinchProtocol } from "./sender.js";

export const sinch = defineProvider({
  name: "sinch",
  displayName: "Sinch",
  docs: "docs/providers/sinch.md",
  authentication: "`x-sinch-webhook-signature` (HMAC-SHA256 over body, nonce and timestamp) when Sinch signs the callbacks, else a secret path token",
  pathToken: "fallback",
  secretVariables: ["SINCH_WEBHOOK_SECRET", "SINCH_WEBHOOK_TOKEN"],
  config: {
    inbound: {
      SINCH_WEBHOOK_SECRET: {
        description:
          "Sinch SMS callback signing secret(s): the HMAC-SHA256 key of `x-sinch-webhook-signature` (Sinch's account managers enable signing); preferred over the path token",
        schema: providerSecretList("signing secret that Sinch's account manager gives you").optional(),
      },
      SINCH_WEBHOOK_TOKEN: {
        description: "path token(s) of `/v1/inbound/sinch/<token>`, at least 32 characters",
        schema: pathTokenList.optional(),
      },
    },
    outbound: {
      SINCH_SERVICE_PLAN_ID: { description: "Sinch SMS service plan ID: sending with the REST API", schema: z.string().min(1).max(200).optional() },
      SINCH_API_TOKEN: { description: "Sinch SMS API token (Bearer) of the service plan", schema: z.string().min(1).max(500).optional() },
      SINCH_API_BASE_URL: {
        description: "Sinch SMS API base URL of your region (default `https://us.sms.api.sinch.com`; eu., au., br., ca.)",
        schema: httpUrl.default("https://us.sms.api.sinch.com"),
      },
    },
  },
  inbound: (p) => ({ sinchTokens: p.SINCH_WEBHOOK_TOKEN ?? [], sinchSigningSecrets: p.SINCH_WEBHOOK_SECRET ?? [] }),
  outbound: (p) => ({ sinch: { servicePlanId: p.SINCH_SERVICE_PLAN_ID, apiToken: p.SINCH_API_TOKEN, baseUrl: p.SINCH_API_BASE_URL } }),
  configured: (s) => s.sinchTokens.length > 0 || s.sinchSigningSecrets.length > 0,
  adapter: (s) => createSinchAdapter({ tokens: orUnknown(s.sinchTokens, () => randomSecret()), signingSecrets: s.sinchSigningSecrets }),
  sender: ({ inbound, outbound }, context) =>
    createHttpSender(sinchProtocol, { ...outbound.sinch, callbackUrl: context.deliveryReportUrl(inbound.sinchTokens) }, context.options),
  startupNotice: (s) =>
    s.sinchTokens.length > 0 && s.sinchSigningSecrets.length === 0
      ? "sinch: callbacks are checked by the secret path token only; ask your Sinch account manager to enable signed SMS callbacks and set SINCH_WEBHOOK_SECRET."
      : undefined,
  parseDeliveryReport: parseSinchReport,
  openapi,
});
