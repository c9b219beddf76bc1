// The demo's server side through HTTP: the page, its challenges made with the Demo app's key, and
// "Simulate the SMS", which must send only the challenge's own SMS, only with its poll token.
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createDemoService, DEMO_APP_NAME, DEMO_NUMBER } from "../../src/demo/demo-service.js";
import { CONTENT_SECURITY_POLICY } from "../../src/web/web.js";
import { PHONES, startHarness, TEST_HASH_KEY, type Harness } from "../support/harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { DEMO_ENABLED: "true" } });
});
afterAll(async () => {
  await h.close();
});

async function createDemoChallenge(body: Record<string, unknown>) {
  return h.http().post("/demo/challenges").set("Content-Type", "application/json").send(body);
}

/** The demo service of another process (instance, restart) on the same database; `capturing`: it keeps the demo number's SMS. */
function anotherDemoProcess(of: Harness, capturing: boolean) {
  return createDemoService({
    apps: of.runtime.apps,
    numbers: of.runtime.appDirectory,
    challenges: of.runtime.challenges,
    inbound: of.runtime.inbound,
    limits: { checkKey: async () => undefined },
    deliveries: of.runtime.outbound.repository,
    ...(capturing ? { outbox: { capturing: true, find: () => undefined } } : {}),
    genericWebhookSecrets: of.runtime.genericWebhookSecrets,
    hashKey: TEST_HASH_KEY,
    publicBaseUrl: of.config.publicBaseUrl,
    clock: of.clock,
    logger: of.runtime.logger,
  });
}

function simulate(id: string, ticket: string, pollToken?: string) {
  const req = h.http().post("/demo/simulate-sms").set("Content-Type", "application/json");
  if (pollToken !== undefined) req.set("X-Poll-Token", pollToken);
  return req.send({ id, ticket });
}

describe("the demo page", () => {
  test("is served at / with a strict Content-Security-Policy, no inline script, and its CSS and JS from this origin", async () => {
    const res = await h.http().get("/?lang=en");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain("unsafe-inline");
    expect(res.headers["cache-control"]).toBe("no-store");
    // The only <script> with content is a JSON data block, which the browser never runs.
    const scripts = [...res.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    for (const [, attrs, content] of scripts) {
      if (content!.trim() !== "") expect(attrs).toContain('type="application/json"');
    }
    expect(res.text).not.toMatch(/\sstyle=|\son[a-z]+=/i);
    expect(res.text).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const asset of ["/web/demo.js", "/web/site.css", "/web/favicon.svg"]) {
      const file = await h.http().get(asset);
      expect(file.status).toBe(200);
      expect(file.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
    }
    expect((await h.http().get("/web/../demo/demo-service.ts")).status).toBe(404);
    expect((await h.http().get("/web/demo.html")).status).toBe(404);
  });

  test.each([
    ["?lang=de", undefined, "de", "Meinen Code holen"],
    ["?lang=fr", "de-DE", "fr", "Obtenir mon code"],
    ["", "fr-CH, de;q=0.8", "fr", "Obtenir mon code"],
    ["", "es-ES, de;q=0.5", "de", "Meinen Code holen"],
    ["?lang=xx", "ja", "en", "Get my code"],
  ])("with %j and Accept-Language %j the page is in %s", async (query, acceptLanguage, lang, button) => {
    const req = h.http().get(`/${query}`);
    if (acceptLanguage) req.set("Accept-Language", acceptLanguage);
    const res = await req;
    expect(res.text).toContain(`<html lang="${lang}">`);
    expect(res.text).toContain(`>${button}</button>`);
  });

  test("lists every country with its calling code, the one of the visitor's region selected", async () => {
    const res = await h.http().get("/").set("Accept-Language", "fr-CH");
    expect(res.text).toContain('<option value="CH" data-example="078 123 45 67" data-name="Suisse" selected>Suisse (+41)</option>');
    expect(res.text).toContain('<option value="FR" data-example="06 12 34 56 78" data-name="France">France (+33)</option>');
    // The phone hint cites the selected country's example number.
    expect(res.text).toContain("par exemple 078 123 45 67 (Suisse).");
    expect((res.text.match(/<option value="[A-Z]{2}"/g) ?? []).length).toBeGreaterThan(200);
  });
});

describe("demo challenges", () => {
  test("are made for the Demo app (its number, generic provider) and carry a QR code and a ticket but no API key", async () => {
    const res = await createDemoChallenge({ phone: "06 12 34 56 78", country: "FR", purpose: "login", locale: "fr" });
    expect(res.status).toBe(201);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.body).toMatchObject({
      status: "pending",
      smsTo: DEMO_NUMBER,
      smsBody: `${res.body.code} est mon code Demo pour me connecter.`,
      pollToken: expect.stringMatching(/^pt_/),
    });
    expect(res.body.qrCodeSvg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>.*<\/svg>\n?$/s);
    expect(res.body.qrCodeSvg).not.toMatch(/<script|on[a-z]+=/i);
    expect(res.text).not.toMatch(/\b(pk|sk)_[0-9A-Za-z]{20,}/);
    // The ticket is sealed: neither the phone nor the code can be read from it.
    expect(res.body.simulationTicket).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(res.body.simulationTicket, "base64url").toString("latin1")).not.toContain(res.body.code);

    const apps = await h.runtime.apps.list();
    const demoApps = apps.filter((a) => a.numbers.some((n) => n.e164 === DEMO_NUMBER));
    expect(demoApps).toEqual([expect.objectContaining({ name: DEMO_APP_NAME, numbers: [expect.objectContaining({ e164: DEMO_NUMBER, provider: "generic" })] })]);
    const [row] = await h.db.query<{ app_id: string }>(`SELECT app_id FROM challenges WHERE id = $1`, [res.body.id]);
    expect(row?.app_id).toBe(demoApps[0]!.id);
  });

  test("set-up happens once per process; another process (instance, restart) reuses the Demo app with a publishable key of its own", async () => {
    const appId = await h.runtime.demo!.ensure();
    expect(await h.runtime.demo!.ensure()).toBe(appId);
    const publishableKeys = async () =>
      (await h.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM api_keys WHERE app_id = $1 AND kind = 'publishable' AND revoked_at IS NULL`, [appId]))[0]!.n;
    const keysBefore = await publishableKeys();
    // Like this process, the other one keeps the demo number's SMS (no gateway).
    const restarted = anotherDemoProcess(h, true);
    expect(await restarted.ensure()).toBe(appId);
    expect(await publishableKeys()).toBe(keysBefore + 1);
    expect((await h.db.query(`SELECT id FROM apps WHERE name = 'Demo'`)).length).toBe(1);
    // Both processes' keys work: the first one's challenges are still created.
    expect((await createDemoChallenge({ phone: PHONES.fr, purpose: "signup" })).status).toBe(201);
  });

  test("refuses bad input like POST /v1/challenges does, with the same problem codes", async () => {
    const fixedLine = await createDemoChallenge({ phone: "01 23 45 67 89", country: "FR", purpose: "login" });
    expect(fixedLine.status).toBe(422);
    expect(fixedLine.body.code).toBe("PHONE_NOT_MOBILE");
    const unknownField = await createDemoChallenge({ phone: PHONES.de, purpose: "login", appId: "app_x" });
    expect(unknownField.status).toBe(400);
    const payment = await createDemoChallenge({ phone: PHONES.de, purpose: "transaction" });
    expect(payment.status).toBe(400);
    expect(payment.body.errors.map((e: { field: string }) => e.field)).toEqual(["context.amount", "context.currency", "context.merchant"]);
    const form = await h.http().post("/demo/challenges").type("form").send("phone=1&purpose=login");
    expect(form.status).toBe(415);
  });
});

describe("Simulate the SMS", () => {
  test("delivers the challenge's own SMS through the signed webhook path, verifying it once; a second time is a duplicate", async () => {
    const c = (await createDemoChallenge({ phone: PHONES.gb, purpose: "signup" })).body;
    const first = await simulate(c.id, c.simulationTicket, c.pollToken);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ outcome: "verified" });
    const again = await simulate(c.id, c.simulationTicket, c.pollToken);
    expect(again.body).toEqual({ outcome: "duplicate" });
    const read = await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken);
    expect(read.body.status).toBe("verified");
    // Stored like any generic-provider message, from the challenge's phone.
    const rows = await h.db.query<{ provider: string; outcome: string; sender_masked: string; recipient: string }>(
      `SELECT provider, outcome::text, sender_masked, recipient FROM inbound_messages WHERE challenge_id = $1`,
      [c.id],
    );
    expect(rows).toEqual([{ provider: "generic", outcome: "verified", sender_masked: c.phoneMasked, recipient: DEMO_NUMBER }]);
    expect(h.logs()).not.toContain(c.pollToken);
    expect(h.logs()).not.toContain(c.simulationTicket);
  });

  test("needs the challenge's poll token: without it, or with another one, the answer is 404 and nothing is sent", async () => {
    const c = (await createDemoChallenge({ phone: PHONES.fr2, purpose: "login" })).body;
    const other = (await createDemoChallenge({ phone: PHONES.de, purpose: "login" })).body;
    const before = await h.countRows();
    expect((await simulate(c.id, c.simulationTicket)).status).toBe(404);
    expect((await simulate(c.id, c.simulationTicket, other.pollToken)).status).toBe(404);
    expect((await simulate(c.id, c.simulationTicket, "pt_wrong")).status).toBe(404);
    expect(await h.countRows()).toEqual(before);
    expect((await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken)).body.status).toBe("pending");
  });

  test("a ticket works only for its own challenge; altered or forged tickets are refused", async () => {
    const c = (await createDemoChallenge({ phone: PHONES.fr, purpose: "appointment" })).body;
    const other = (await createDemoChallenge({ phone: PHONES.gb, purpose: "login" })).body;
    const before = await h.countRows();
    // Another challenge's ticket with this challenge's id and poll token.
    expect((await simulate(c.id, other.simulationTicket, c.pollToken)).status).toBe(404);
    const raw = Buffer.from(c.simulationTicket, "base64url");
    raw[raw.length - 1] = raw[raw.length - 1]! ^ 1;
    expect((await simulate(c.id, raw.toString("base64url"), c.pollToken)).status).toBe(404);
    const forged = Buffer.from(JSON.stringify({ v: 1, challengeId: c.id, from: PHONES.fr, to: DEMO_NUMBER, text: "000000" })).toString("base64url");
    expect((await simulate(c.id, forged, c.pollToken)).status).toBe(404);
    expect((await simulate(c.id, "not a ticket!", c.pollToken)).status).toBe(404);
    expect(await h.countRows()).toEqual(before);
  });

  test("never acts on challenges of other apps, even with their poll token", async () => {
    const app = await h.createApp({ name: "Not the demo" });
    const foreign = (await h.createChallenge(app.pk, { phone: PHONES.de, purpose: "login" })).body;
    const demo = (await createDemoChallenge({ phone: PHONES.de, purpose: "signup" })).body;
    expect((await simulate(foreign.id, demo.simulationTicket, foreign.pollToken)).status).toBe(404);
    expect((await h.http().get(`/v1/challenges/${foreign.id}`).set("X-Poll-Token", foreign.pollToken)).body.status).toBe("pending");
  });
});

function demoPost(path: string, body: Record<string, unknown>, pollToken: string) {
  return h.http().post(path).set("Content-Type", "application/json").set("X-Poll-Token", pollToken).send(body);
}

describe("Can't send an SMS? Get a code instead", () => {
  test("falls back to sms; the demo outbox keeps the SMS for the page; wrong codes show attempts left; the right one verifies", async () => {
    const created = await createDemoChallenge({ phone: "+33611223344", purpose: "login", locale: "en" });
    expect(created.status).toBe(201);
    const c = created.body;
    const asked = { id: c.id, ticket: c.simulationTicket };
    const switched = await demoPost("/demo/fallback", asked, c.pollToken);
    expect(switched.status).toBe(200);
    expect(switched.body).toMatchObject({ id: c.id, status: "pending", channel: "sms", delivery: { status: "queued" } });
    // Not sent yet: nothing to show.
    expect((await demoPost("/demo/message", asked, c.pollToken)).body).toEqual({ deliveryStatus: "queued", message: null });

    expect(await h.runtime.outbound.dispatcher.runOnce()).toMatchObject({ sent: 1 });
    const shown = await demoPost("/demo/message", asked, c.pollToken);
    expect(shown.status).toBe(200);
    expect(shown.body.deliveryStatus).toBe("sent");
    expect(shown.body.message.to).toBe("+33611223344");
    const text: string = shown.body.message.text;
    expect(text).toMatch(/^\d{6} is your Demo code to log in\./);
    const code = text.slice(0, 6);
    expect(code).not.toBe(c.code);

    // The reverse code is dead: typed, it is a wrong code.
    const wrong = await demoPost("/demo/check", { ...asked, code: c.code }, c.pollToken);
    expect(wrong.status).toBe(422);
    expect(wrong.body).toMatchObject({ code: "WRONG_CODE", attemptsRemaining: expect.any(Number) });
    const right = await demoPost("/demo/check", { ...asked, code }, c.pollToken);
    expect(right.status).toBe(200);
    expect(right.body).toMatchObject({ id: c.id, status: "verified", channel: "sms" });
    expect((await h.http().get(`/v1/challenges/${c.id}`).set("X-Poll-Token", c.pollToken)).body.status).toBe("verified");
    expect(h.logs()).not.toContain(text);
  });

  test("acts only on demo challenges with their poll token and ticket; refuses a second fallback", async () => {
    const c = (await createDemoChallenge({ phone: PHONES.de, purpose: "signup" })).body;
    const other = (await createDemoChallenge({ phone: PHONES.gb, purpose: "signup" })).body;
    const before = await h.countRows();
    expect((await demoPost("/demo/fallback", { id: c.id, ticket: c.simulationTicket }, other.pollToken)).status).toBe(404);
    expect((await demoPost("/demo/fallback", { id: c.id, ticket: other.simulationTicket }, c.pollToken)).status).toBe(404);
    expect((await demoPost("/demo/message", { id: c.id, ticket: other.simulationTicket }, c.pollToken)).status).toBe(404);
    expect((await demoPost("/demo/check", { id: c.id, ticket: other.simulationTicket, code: "123456" }, c.pollToken)).status).toBe(404);
    expect(await h.countRows()).toEqual(before);
    const app = await h.createApp({ name: "Not the demo", channels: ["sms_mo", "sms"] });
    const foreign = (await h.createChallenge(app.pk, { phone: PHONES.de, purpose: "login" })).body;
    expect((await demoPost("/demo/fallback", { id: foreign.id, ticket: c.simulationTicket }, foreign.pollToken)).status).toBe(404);
    expect((await demoPost("/demo/fallback", { id: c.id, ticket: c.simulationTicket }, c.pollToken)).status).toBe(200);
    const again = await demoPost("/demo/fallback", { id: c.id, ticket: c.simulationTicket }, c.pollToken);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("CHANNEL_NOT_ALLOWED");
  });
});

describe("with a gateway for the generic provider (GENERIC_OUTBOUND_URL)", () => {
  test("the demo captures nothing: no fallback offered or done, and a Demo app that allowed sms goes back to sms_mo only", async () => {
    const gateway = await startHarness({ env: { DEMO_ENABLED: "true", GENERIC_OUTBOUND_URL: "https://gateway.invalid/send" } });
    try {
      const appId = await gateway.runtime.demo!.ensure();
      await gateway.runtime.apps.updatePolicy(appId, { channels: ["sms_mo", "sms"] });
      const restarted = anotherDemoProcess(gateway, false);
      await restarted.ensure();
      expect((await gateway.runtime.apps.get(appId)).channels).toEqual(["sms_mo"]);
      const page = await gateway.http().get("/?lang=en");
      expect(page.text).toMatch(/<div class="fallback" id="fallback-step" hidden>/);
      const c = (await gateway.http().post("/demo/challenges").set("Content-Type", "application/json").send({ phone: PHONES.gb, purpose: "login" })).body;
      const res = await gateway.http().post("/demo/fallback").set("Content-Type", "application/json").set("X-Poll-Token", c.pollToken).send({ id: c.id, ticket: c.simulationTicket });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe("CHANNEL_NOT_ALLOWED");
    } finally {
      await gateway.close();
    }
  });
});

describe("with DEMO_ENABLED=false", () => {
  test("there is no page at / and no demo route, and no Demo app is made", async () => {
    const off = await startHarness({ env: { DEMO_ENABLED: "false" } });
    try {
      expect(off.runtime.demo).toBeUndefined();
      const page = await off.http().get("/");
      expect(page.status).toBe(404);
      expect(page.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect((await off.http().post("/demo/challenges").send({ phone: PHONES.fr, purpose: "login" })).status).toBe(404);
      expect((await off.http().post("/demo/simulate-sms").send({ id: "chl_x", ticket: "x" })).status).toBe(404);
      expect((await off.countRows()).apps).toBe(0);
    } finally {
      await off.close();
    }
  });
});

test("when the demo number belongs to another app, the demo refuses to start and says why", async () => {
  const taken = await startHarness({ env: { DEMO_ENABLED: "true" } });
  try {
    await taken.createApp({ name: "Someone", numbers: [{ number: DEMO_NUMBER }] });
    await expect(taken.runtime.demo!.ensure()).rejects.toThrow(/belongs to the app .* \("Someone"\).*DEMO_ENABLED=false/);
    const res = await taken.http().post("/demo/challenges").set("Content-Type", "application/json").send({ phone: PHONES.fr, purpose: "login" });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe("SERVICE_UNAVAILABLE");
    expect(res.body.detail).not.toContain("Someone");
    expect(taken.logs()).toContain("the demo could not be set up");
  } finally {
    await taken.close();
  }
});
