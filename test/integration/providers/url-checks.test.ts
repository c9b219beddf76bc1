// URL checks: what a provider's back office or a health probe sends when a webhook URL is saved —
// a GET (or HEAD) without query string or body. For every provider it is answered 200 and reads and
// writes nothing, whether the provider delivers by GET or by POST; a GET with parameters to a
// POST-only provider is still 405. Path-token providers check the token first, so a URL saved with a
// mistyped token shows as refused at once; without a configured secret a signed provider still
// answers the check (it proves nothing, and changes nothing).
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { PROVIDER_NAMES } from "../../../src/providers/registry.js";
import { startHarness, type Harness } from "../../support/harness.js";

const TOKENS = {
  smsmode: "smsmodeUrlTok_9Ij8Uh7Yg6Tf5Rd4Es3Wa2Qz1Xc0V",
  sinch: "sinchUrlTok_1Az2Sx3Dc4Fv5Gb6Hn7Jm8Kl9Qw0Er",
  infobip: "infobipUrlTok_0Qa9Ws8Ed7Rf6Tg5Yh4Uj3Ik2Ol1P",
} as const;
const isPathToken = (p: string): p is keyof typeof TOKENS => p in TOKENS;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { SMSMODE_WEBHOOK_TOKEN: TOKENS.smsmode, SINCH_WEBHOOK_TOKEN: TOKENS.sinch, INFOBIP_WEBHOOK_TOKEN: TOKENS.infobip } });
});
afterAll(async () => {
  await h?.close();
});

const urlOf = (provider: string) => (isPathToken(provider) ? `/v1/inbound/${provider}/${TOKENS[provider]}` : `/v1/inbound/${provider}`);

describe.each([...PROVIDER_NAMES])("%s", (provider) => {
  test("a bare GET and a bare HEAD are answered 200 and change nothing", async () => {
    const before = await h.countRows();
    const get = await h.http().get(urlOf(provider));
    expect([get.status, get.text]).toEqual([200, ""]);
    const head = await h.http().head(urlOf(provider));
    expect(head.status).toBe(200);
    expect(await h.countRows()).toEqual(before);
  });

  if (isPathToken(provider)) {
    test("without the token, or with a wrong one, the check is refused", async () => {
      expect((await h.http().get(`/v1/inbound/${provider}`)).body.code).toBe("WEBHOOK_SIGNATURE_MISSING");
      expect((await h.http().get(`/v1/inbound/${provider}/${TOKENS[provider].slice(1)}`)).body.code).toBe("WEBHOOK_SIGNATURE_INVALID");
    });
  }

  const adapter = () => h.runtime.providers.get(provider)!;
  test("a GET with parameters is a delivery: refused unless the provider delivers by GET", async () => {
    const res = await h.http().get(`${urlOf(provider)}?From=%2B33612345678`);
    if (adapter().methods.includes("GET")) expect(res.status).not.toBe(200);
    else expect([res.status, res.body.code]).toEqual([405, "METHOD_NOT_ALLOWED"]);
  });
});
