// The demo: one "Demo" app (generic provider, a demo virtual number), challenges created for the
// demo page with that app's publishable key, a QR code of the `sms:` link, and the "Simulate the
// SMS" action, which delivers the challenge's own SMS through the real, signed webhook path.
import { getCountries } from "libphonenumber-js/max";
import type { AppDirectory } from "../apps/app-directory.js";
import type { AppService, Principal } from "../apps/app-service.js";
import type { ChallengeService, CreateChallengeInput, CreatedChallenge } from "../challenges/challenge-service.js";
import { parsePhone } from "../challenges/phone.js";
import type { Logger } from "../http/logger.js";
import type { InboundService } from "../inbound/inbound-service.js";
import { clientKey } from "../limits/client-key.js";
import type { LimitsService } from "../limits/limits-service.js";
import type { OutboxRepository } from "../outbound/outbox-repository.js";
import { signStandardWebhook } from "../providers/standard-webhooks.js";
import type { Clock } from "../shared/clock.js";
import { randomId } from "../shared/crypto.js";
import { AppError } from "../shared/errors.js";
import type { DemoOutbox } from "./demo-outbox.js";
import { createTicketSealer } from "./demo-ticket.js";

export const DEMO_APP_NAME = "Demo";
/**
 * The demo app's virtual number. A valid UK mobile number (the app needs one), outside the
 * +44 7400 000100… range the README's walk-through and the tests use, so it does not collide.
 */
export const DEMO_NUMBER = "+447400000000";

export type DemoChallenge = CreatedChallenge & {
  /** SVG of a QR code of the RFC 5724 `sms:` link (smsUri.android), for desktop users. */
  qrCodeSvg: string;
  /** Sealed phone, number and SMS text, handed back by "Simulate the SMS" (see demo-ticket.ts). */
  simulationTicket: string;
};

export type DemoServiceDeps = {
  apps: Pick<AppService, "create" | "rotateKey" | "authenticate" | "get" | "updatePolicy">;
  /** Who owns the demo number. */
  numbers: Pick<AppDirectory, "findNumber">;
  challenges: Pick<ChallengeService, "create" | "get" | "fallback" | "check">;
  inbound: Pick<InboundService, "handle">;
  limits: Pick<LimitsService, "checkKey">;
  /** The latest outbound message of a challenge (its outbox id and delivery status). */
  deliveries: Pick<OutboxRepository, "findLatestForChallenge">;
  /** Where the demo number's SMS are kept while no gateway sends them (demo-outbox.ts). */
  outbox?: Pick<DemoOutbox, "capturing" | "find">;
  /** The generic provider's secrets; the first one signs simulated SMS. */
  genericWebhookSecrets: readonly string[];
  /** The primary HASH_KEY, from which the ticket key is derived. */
  hashKey: string;
  publicBaseUrl: string;
  clock: Clock;
  logger: Logger;
};

type DemoApp = { appId: string; principal: Principal };

/** What the demo page's "Get a code instead" path shows: the code's SMS once the demo outbox has it. */
export type DemoMessage = { deliveryStatus: string | null; message: { to: string; text: string } | null };

/** The classic direction in the demo: the SMS are captured, so every country may get one. */
const CLASSIC_POLICY = { channels: ["sms_mo", "sms"], outboundCountries: getCountries() as string[] };

export function createDemoService(deps: DemoServiceDeps) {
  const tickets = createTicketSealer(deps.hashKey);
  let ready: Promise<DemoApp> | undefined;

  const findDemoApp = async (): Promise<{ id: string; name: string } | undefined> => {
    const owner = await deps.numbers.findNumber([DEMO_NUMBER]);
    return owner && { id: owner.appId, name: owner.appName };
  };

  /**
   * Finds or creates the Demo app and gives this process a publishable key of its own.
   *
   * The key is made fresh at each start-up (rotate-key without revoking, so other instances keep
   * theirs) and lives only in memory: nothing is written to disk, it works the same on embedded
   * PGlite and on a shared PostgreSQL, and a publishable key is no secret anyway (it ships in
   * mobile apps; it can create challenges and read them only with their poll token). The secret
   * key made with the app is dropped unseen: the demo never needs it (an operator who wants one
   * runs `apps rotate-key <id> --kind secret`). Cost: one api_keys row per start-up.
   */
  async function setUp(): Promise<DemoApp> {
    let app = await findDemoApp();
    let publishableKey: string | undefined;
    const classic = deps.outbox?.capturing === true;
    if (!app) {
      try {
        const created = await deps.apps.create({
          name: DEMO_APP_NAME,
          numbers: [{ number: DEMO_NUMBER, provider: "generic" }],
          ...(classic ? CLASSIC_POLICY : {}),
        });
        app = created.app;
        publishableKey = created.publishableKey;
        deps.logger.info({ appId: app.id }, "demo app created");
      } catch (error) {
        // Another instance created it at the same moment (the number is unique): use that one.
        app = await findDemoApp();
        if (!app) throw error;
      }
    }
    if (app.name !== DEMO_APP_NAME) {
      throw new Error(
        `The demo number ${DEMO_NUMBER} belongs to the app ${app.id} ("${app.name}"), not to a "${DEMO_APP_NAME}" app: ` +
          "set DEMO_ENABLED=false, or give that app another number",
      );
    }
    // A Demo app made before the classic direction learns it; with a gateway that would really send
    // (and charge for) its SMS, it goes back to reverse only, so no poll token can make it send.
    if (!publishableKey) {
      const allowsSms = (await deps.apps.get(app.id)).channels.includes("sms");
      if (classic && !allowsSms) {
        await deps.apps.updatePolicy(app.id, CLASSIC_POLICY);
        deps.logger.info({ appId: app.id }, "demo app: sms allowed, its SMS kept for the demo page");
      } else if (!classic && allowsSms) {
        await deps.apps.updatePolicy(app.id, { channels: ["sms_mo"], outboundCountries: [] });
        deps.logger.info({ appId: app.id }, "demo app: back to sms_mo only, a gateway would send its SMS");
      }
    }
    publishableKey ??= await deps.apps.rotateKey(app.id, "publishable", false);
    const principal = await deps.apps.authenticate(publishableKey);
    if (!principal) throw new Error("the demo app's new publishable key does not authenticate");
    return { appId: app.id, principal };
  }

  /** The demo app, set up once; a failed set-up is tried again at the next call. */
  function demoApp(): Promise<DemoApp> {
    ready ??= setUp().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return ready;
  }

  /** For requests: a set-up that fails (a database error, a taken number) is logged, and answered 503. */
  async function demoAppForRequest(): Promise<DemoApp> {
    try {
      return await demoApp();
    } catch (error) {
      if (error instanceof AppError) throw error;
      deps.logger.error({ err: error }, "the demo could not be set up");
      throw new AppError("SERVICE_UNAVAILABLE", "The demo is not available; the service's log says why", { retryAfterSeconds: 60 });
    }
  }

  /**
   * The ticket of a challenge of the demo app, with its poll token: the demo routes act on nothing
   * else (404 otherwise, as for a challenge that does not exist).
   */
  async function demoChallenge(challengeId: string, pollToken: string | undefined, sealedTicket: string) {
    const demo = await demoAppForRequest();
    const ticket = tickets.open(sealedTicket);
    if (!ticket || ticket.challengeId !== challengeId || ticket.appId !== demo.appId) {
      throw new AppError("NOT_FOUND", "No such demo challenge");
    }
    // The poll token proves the caller is the one the challenge was created for (404 otherwise).
    await deps.challenges.get(challengeId, pollToken === undefined ? {} : { pollToken });
    return ticket;
  }
  const byPollToken = (pollToken: string | undefined) => (pollToken === undefined ? {} : { pollToken });

  return {
    /** Whether the page offers "Get a code instead": the demo number's SMS are kept for it (no gateway). */
    get classic(): boolean {
      return deps.outbox?.capturing === true;
    },

    /** Sets the demo app up (the server calls this at start-up; the routes on first use). Returns its id. */
    async ensure(): Promise<string> {
      return (await demoApp()).appId;
    },

    /** Creates a challenge of the demo app, as a mobile app with the publishable key would. */
    async create(input: CreateChallengeInput, clientIp: string | undefined): Promise<DemoChallenge> {
      const demo = await demoAppForRequest();
      // The same per-key-and-IP creation limit as POST /v1/challenges with this publishable key.
      await deps.limits.checkKey(demo.principal, clientIp, true);
      // Each visitor is a client of its own for the per-phone limits, as with any publishable key.
      const { challenge } = await deps.challenges.create(demo.principal, input, undefined, clientKey(clientIp));
      // The service accepted the phone, so it parses; the E.164 form is the sender of the SMS.
      const parsed = parsePhone(input.phone, input.country ? { country: input.country } : {});
      if (!parsed.ok) throw new AppError("INVALID_PHONE", parsed.detail);
      if (!challenge.smsUri || !challenge.smsTo || !challenge.smsBody) throw new AppError("CHANNEL_NOT_ALLOWED", "The demo starts with a reverse challenge");
      // RFC 5724 `sms:NUMBER?body=…`: what QR readers on Android understand, and iOS's camera too.
      // qrcode is loaded with the first demo challenge (a service without the demo does not need it).
      const { default: QRCode } = await import("qrcode");
      const qrCodeSvg = await QRCode.toString(challenge.smsUri.android, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
      const simulationTicket = tickets.seal({
        appId: demo.appId,
        challengeId: challenge.id,
        from: parsed.phone.e164,
        to: challenge.smsTo,
        text: challenge.smsBody,
      });
      return { ...challenge, qrCodeSvg, simulationTicket };
    },

    /**
     * Delivers the demo challenge's own SMS as the generic provider would: a Standard Webhooks
     * request signed with the configured secret, through the same verification and matching as
     * POST /v1/inbound/generic (in process: the public URL may not lead back to this instance).
     * Needs the challenge's poll token and its ticket; the message id is derived from the
     * challenge, so a second simulation is a harmless duplicate.
     */
    async simulateSms(challengeId: string, pollToken: string | undefined, sealedTicket: string): Promise<{ outcome: string }> {
      const ticket = await demoChallenge(challengeId, pollToken, sealedTicket);
      const secret = deps.genericWebhookSecrets[0];
      if (!secret) throw new AppError("WEBHOOK_NOT_CONFIGURED", "Set GENERIC_WEBHOOK_SECRET to simulate SMS");

      const now = deps.clock.now();
      const body = JSON.stringify({ messageId: `demo_${challengeId}`, from: ticket.from, to: ticket.to, text: ticket.text });
      const webhookId = randomId("msg");
      const timestamp = Math.floor(now.getTime() / 1000);
      const { results } = await deps.inbound.handle("generic", {
        method: "POST",
        publicUrl: `${deps.publicBaseUrl}/v1/inbound/generic`,
        headers: {
          "content-type": "application/json",
          "webhook-id": webhookId,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": signStandardWebhook(secret, webhookId, timestamp, body),
        },
        rawBody: Buffer.from(body, "utf8"),
        receivedAt: now,
      });
      return { outcome: results[0]?.outcome ?? "duplicate" };
    },

    /** "Can't send an SMS? Get a code instead": the challenge's fallback to `sms`, with its poll token. */
    async fallback(challengeId: string, pollToken: string | undefined, sealedTicket: string) {
      await demoChallenge(challengeId, pollToken, sealedTicket);
      if (!deps.outbox?.capturing) throw new AppError("CHANNEL_NOT_ALLOWED", "The demo sends no codes: a gateway is configured", { reason: "sms" });
      return deps.challenges.fallback(challengeId, byPollToken(pollToken), { channel: "sms" });
    },

    /** The code's SMS as the demo outbox keeps it (null until the dispatcher has handed it over). */
    async message(challengeId: string, pollToken: string | undefined, sealedTicket: string): Promise<DemoMessage> {
      await demoChallenge(challengeId, pollToken, sealedTicket);
      const delivery = await deps.deliveries.findLatestForChallenge(challengeId);
      const captured = delivery && deps.outbox?.find(delivery.id);
      return { deliveryStatus: delivery?.status ?? null, message: captured ? { to: captured.to, text: captured.text } : null };
    },

    /** The code typed on the page. */
    async check(challengeId: string, pollToken: string | undefined, sealedTicket: string, code: string, clientIp: string | undefined) {
      await demoChallenge(challengeId, pollToken, sealedTicket);
      return deps.challenges.check(challengeId, byPollToken(pollToken), code, clientIp);
    },
  };
}

export type DemoService = ReturnType<typeof createDemoService>;
