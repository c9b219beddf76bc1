import { z } from "zod";
import { createHttpSender } from "../../outbound/sms-sender.js";
import { httpUrl, providerSecretList } from "../../shared/config-schemas.js";
import { randomSecret } from "../../shared/crypto.js";
import { defineProvider, orUnknown } from "../descriptor.js";
import { createTwilioAdapter } from "./adapter.js";
import { parseTwilioReport } from "./delivery-report.js";
import { openapi } from "./openapi.js";
import { twilioProtocol } from "./sender.js";

export const twilio = defineProvider({
  name: "twilio",
  displayName: "Twilio",
  docs: "docs/providers/twilio.md",
  authentication: "`X-Twilio-Signature`: HMAC-SHA1 over the public URL and the sorted POST parameters",
  pathToken: "never",
  secretVariables: ["TWILIO_AUTH_TOKEN"],
  config: {
    inbound: {
      TWILIO_AUTH_TOKEN: {
        description: "Twilio auth token(s): the key of `X-Twilio-Signature`",
        schema: providerSecretList("Auth Token of the Twilio Console (32 hexadecimal digits)").optional(),
      },
    },
    outbound: {
      TWILIO_ACCOUNT_SID: { description: "Twilio account SID (`AC…`): sending with the Messages API, with the first TWILIO_AUTH_TOKEN", schema: z.string().regex(/^AC[0-9a-fA-F]{32}$/, { message: "must be AC followed by 32 hex digits" }).optional() },
      TWILIO_API_BASE_URL: { description: "Twilio REST base URL (default `https://api.twilio.com`)", schema: httpUrl.default("https://api.twilio.com") },
    },
  },
  inbound: (p) => ({ twilioAuthTokens: p.TWILIO_AUTH_TOKEN ?? [] }),
  outbound: (p) => ({ twilio: { accountSid: p.TWILIO_ACCOUNT_SID, baseUrl: p.TWILIO_API_BASE_URL } }),
  configured: (s) => s.twilioAuthTokens.length > 0,
  adapter: (s) => createTwilioAdapter({ authTokens: orUnknown(s.twilioAuthTokens, () => randomSecret()) }),
  sender: ({ inbound, outbound }, context) =>
    createHttpSender(
      twilioProtocol,
      { accountSid: outbound.twilio.accountSid, authToken: inbound.twilioAuthTokens[0], baseUrl: outbound.twilio.baseUrl, statusCallbackUrl: context.deliveryReportUrl() },
      context.options,
    ),
  parseDeliveryReport: parseTwilioReport,
  openapi,
});
