// `simulate-sms`: a correctly signed generic-provider webhook to a running service.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config.js";
import { signStandardWebhook } from "../providers/standard-webhooks.js";
import { randomId } from "../shared/crypto.js";
import { parseCommand, UsageError, type CliContext } from "./context.js";

/**
 * The generic provider's secret: configured, or, in embedded mode only, the one the service
 * generated in DATA_DIR. With DATABASE_URL the service never reads DATA_DIR/secrets.json, so signing
 * with a file left by an earlier embedded run would only hide the missing GENERIC_WEBHOOK_SECRET.
 */
function genericSecret(config: Config): string | undefined {
  if (config.genericWebhookSecrets?.[0]) return config.genericWebhookSecrets[0];
  if (config.databaseUrl) return undefined;
  try {
    const secrets = JSON.parse(readFileSync(path.join(config.dataDir, "secrets.json"), "utf8")) as { genericWebhookSecret?: string };
    return secrets.genericWebhookSecret;
  } catch {
    return undefined;
  }
}

/**
 * POSTs `body` to `path` of a running service (`url`, default PUBLIC_BASE_URL), signed as the
 * generic provider signs (Standard Webhooks, the first GENERIC_WEBHOOK_SECRET).
 */
export async function postSignedGeneric(ctx: CliContext, command: string, url: string | undefined, path: string, body: string): Promise<Response> {
  const config = ctx.config();
  const secret = genericSecret(config);
  if (!secret) {
    throw new UsageError(
      config.databaseUrl
        ? "No generic webhook secret: set GENERIC_WEBHOOK_SECRET to the same whsec_… value the service runs with"
        : "No generic webhook secret: set GENERIC_WEBHOOK_SECRET, or start the service once in embedded mode",
      command,
    );
  }
  const base = (url ?? config.publicBaseUrl).replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]/.test(base)) throw new UsageError("--url must be an http(s) URL such as http://127.0.0.1:3000", command);
  const id = randomId("msg");
  const timestamp = Math.floor(ctx.clock.now().getTime() / 1000);
  try {
    return await ctx.fetch(`${base}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signStandardWebhook(secret, id, timestamp, body),
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new Error(`Could not reach the service at ${base}: ${(error as Error).message}. Is it running?`);
  }
}

/** An E.164 number, spaces allowed for readability: what the generic provider's payload carries. */
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Exits with 1 when the service answers with an error, and when it accepted the message but verified
 * nothing (the outcome, e.g. `wrong_code` or `invalid_sender`, is printed and explained).
 */
export async function simulateSmsCommand(ctx: CliContext, args: string[]): Promise<number> {
  const command = "simulate-sms";
  const { values } = parseCommand(command, args, {
    from: { type: "string" },
    to: { type: "string" },
    text: { type: "string" },
    url: { type: "string" },
    "message-id": { type: "string" },
  });
  if (!values.from || !values.to || values.text === undefined) throw new UsageError("simulate-sms needs --from, --to and --text", command);
  for (const option of ["from", "to"] as const) {
    if (!E164.test(values[option]!.replace(/[\s-]/g, ""))) {
      throw new UsageError(`--${option} must be an international number in E.164 form, such as +33612345678 (got "${values[option]}")`, command);
    }
  }
  const from = values.from.replace(/[\s-]/g, "");
  const to = values.to.replace(/[\s-]/g, "");
  const body = JSON.stringify({ messageId: values["message-id"] ?? randomId("sim"), from, to, text: values.text });
  const response = await postSignedGeneric(ctx, command, values.url, "/v1/inbound/generic", body);
  const answer = await response.text();
  ctx.stdout(`${response.status} ${answer}\n`);
  if (!response.ok) return 1;
  const unverified = outcomesOf(answer).filter((outcome) => outcome !== "verified");
  if (unverified.length === 0) return 0;
  ctx.stderr(`The service accepted the message but it verified nothing: ${unverified.map((o) => `${o} (${OUTCOME_HINTS[o] ?? "see docs/providers/generic.md"})`).join(", ")}\n`);
  return 1;
}

/** What a non-verifying outcome most likely means for someone simulating an SMS. */
const OUTCOME_HINTS: Record<string, string> = {
  wrong_code: "the text holds no code of a pending challenge of that sender",
  expired: "the challenge expired",
  no_pending_challenge: "the sender has no pending challenge at this app",
  unknown_number: "--to is not a virtual number of any app",
  invalid_sender: "--from is not a mobile number that can send SMS",
  duplicate: "this --message-id was delivered before",
};

function outcomesOf(answer: string): string[] {
  try {
    const parsed = JSON.parse(answer) as { results?: { outcome?: unknown }[] };
    return (parsed.results ?? []).map((r) => String(r.outcome));
  } catch {
    return [];
  }
}
