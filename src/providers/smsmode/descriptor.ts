import { z } from "zod";
import { createHttpSender } from "../../outbound/sms-sender.js";
import { httpUrl, pathTokenList } from "../../shared/config-schemas.js";
import { randomSecret } from "../../shared/crypto.js";
import { defineProvider, orUnknown } from "../descriptor.js";
import { createSmsmodeAdapter } from "./adapter.js";
import { parseSmsmodeReport } from "./delivery-report.js";
import { openapi } from "./openapi.js";
import { smsmodeProtocol } from "./sender.js";

export const smsmode = defineProvider({
  name: "smsmode",
  displayName: "smsmode",
  docs: "docs/providers/smsmode.md",
  authentication: "a secret path token (`/v1/inbound/smsmode/<token>`): smsmode signs nothing",
  pathToken: "only",
  secretVariables: ["SMSMODE_WEBHOOK_TOKEN"],
  config: {
    inbound: {
      SMSMODE_WEBHOOK_TOKEN: {
        description: "path token(s) of `/v1/inbound/smsmode/<token>`, at least 32 characters",
        schema: pathTokenList.optional(),
      },
    },
    outbound: {
      SMSMODE_ACCESS_TOKEN: { description: "smsmode access token: sending with the HTTP API 1.6", schema: z.string().min(1).max(500).optional() },
      SMSMODE_API_BASE_URL: { description: "smsmode HTTP API base URL (default `https://api.smsmode.com`)", schema: httpUrl.default("https://api.smsmode.com") },
    },
  },
  inbound: (p) => ({ smsmodeTokens: p.SMSMODE_WEBHOOK_TOKEN ?? [] }),
  outbound: (p) => ({ smsmode: { accessToken: p.SMSMODE_ACCESS_TOKEN, baseUrl: p.SMSMODE_API_BASE_URL } }),
  configured: (s) => s.smsmodeTokens.length > 0,
  adapter: (s, context) => createSmsmodeAdapter({ tokens: orUnknown(s.smsmodeTokens, () => randomSecret()), messageIdKey: context.messageIdKey }),
  sender: ({ inbound, outbound }, context) =>
    createHttpSender(smsmodeProtocol, { ...outbound.smsmode, notificationUrl: context.deliveryReportUrl(inbound.smsmodeTokens) }, context.options),
  parseDeliveryReport: parseSmsmodeReport,
  openapi,
});
