import { z } from "zod";
import { createHttpSender } from "../../outbound/sms-sender.js";
import { httpUrl, pathTokenList } from "../../shared/config-schemas.js";
import { randomSecret } from "../../shared/crypto.js";
import { defineProvider, orUnknown } from "../descriptor.js";
import { createInfobipAdapter } from "./adapter.js";
import { parseInfobipReport } from "./delivery-report.js";
import { openapi } from "./openapi.js";
import { infobipProtocol } from "./sender.js";

export const infobip = defineProvider({
  name: "infobip",
  displayName: "Infobip",
  docs: "docs/providers/infobip.md",
  authentication: "a secret path token (`/v1/inbound/infobip/<token>`): Infobip signs nothing",
  pathToken: "only",
  secretVariables: ["INFOBIP_WEBHOOK_TOKEN"],
  config: {
    inbound: {
      INFOBIP_WEBHOOK_TOKEN: {
        description: "path token(s) of `/v1/inbound/infobip/<token>`, at least 32 characters",
        schema: pathTokenList.optional(),
      },
    },
    outbound: {
      INFOBIP_API_KEY: { description: "Infobip API key: sending SMS (`Authorization: App …`)", schema: z.string().min(1).max(500).optional() },
      INFOBIP_API_BASE_URL: { description: "Infobip base URL of your account (`https://xxxxx.api.infobip.com`); required to send through Infobip", schema: httpUrl.optional() },
    },
  },
  inbound: (p) => ({ infobipTokens: p.INFOBIP_WEBHOOK_TOKEN ?? [] }),
  outbound: (p) => ({ infobip: { apiKey: p.INFOBIP_API_KEY, baseUrl: p.INFOBIP_API_BASE_URL } }),
  configured: (s) => s.infobipTokens.length > 0,
  adapter: (s) => createInfobipAdapter({ tokens: orUnknown(s.infobipTokens, () => randomSecret()) }),
  sender: ({ inbound, outbound }, context) =>
    createHttpSender(infobipProtocol, { ...outbound.infobip, notifyUrl: context.deliveryReportUrl(inbound.infobipTokens) }, context.options),
  parseDeliveryReport: parseInfobipReport,
  openapi,
});
