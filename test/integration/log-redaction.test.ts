// Secrets in request paths never reach the logs, however the path is spelled: routes match
// case-insensitively, HTTP allows absolute-form targets (`POST http://host/v1/inbound/…`), and
// `//`, `%`-escapes and trailing slashes all reach the same route. Error codes in log lines stay
// readable while OTP codes stay redacted.
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { PHONES, startHarness, type Harness } from "../support/harness.js";
import { serve, writeFigureWhenReporting } from "../security/report-support.js";

// Real-looking path tokens of the unsigned providers (config requires ≥ 128 bits).
const TOKENS = {
  sinch: "sinchLogTok_7Hq2Wm9Xc4Vb1Nz8Lk3Jd6Fg5Sa0Pu",
  smsmode: "smsmodeLogTok_Rt5Yu8Io1Pa4Sd7Fg0Hj3Kl6Zx",
  infobip: "infobipLogTok_Qw3Er6Ty9Ui2Op5As8Df1Gh4Jk",
};

let h: Harness;
let server: Awaited<ReturnType<typeof serve>>;
const figure = { providers: {} as Record<string, { spellings: number; requests: number; logLines: number }> };
beforeAll(async () => {
  h = await startHarness({
    env: { SINCH_WEBHOOK_TOKEN: TOKENS.sinch, SMSMODE_WEBHOOK_TOKEN: TOKENS.smsmode, INFOBIP_WEBHOOK_TOKEN: TOKENS.infobip },
  });
  server = await serve(h);
});
afterAll(async () => {
  writeFigureWhenReporting("S-log-redaction", figure);
  await server.close();
  await h.close();
});

/** Sends `method target` as it is on the wire (absolute-form and `//` included), and answers the status. */
function send(method: string, target: string, body = "{}"): Promise<number> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path: target, headers: { "content-type": "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(method === "GET" ? undefined : body);
  });
}

const spellings = (provider: string, token: string) => [
  `/v1/inbound/${provider}/${token}`,
  `/V1/INBOUND/${provider.toUpperCase()}/${token}`,
  `/v1/Inbound/${provider}/${token}/`,
  `//v1/inbound/${provider}/${token}`,
  `/v1//inbound/${provider}/${token}`,
  `${server.url}/v1/inbound/${provider}/${token}`,
  `${server.url.toUpperCase()}/V1/INBOUND/${provider}/${token}?x=1`,
  `/v1/inbound/${provider}/${token}?from=${encodeURIComponent(PHONES.fr)}`,
  `/v1/inbound/${provider}/${encodeURIComponent(token).replace(/[A-Z]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`,
  `/v1/%69nbound/${provider}/${token}`,
];

describe("path tokens are redacted in every log line, whatever the spelling of the path", () => {
  test.each(Object.entries(TOKENS))("%s: the token (and any part of it) appears in no log line", async (provider, token) => {
    const before = h.logs().length;
    const targets = spellings(provider, token);
    for (const target of targets) {
      for (const method of ["POST", "GET"]) await send(method, target);
      // A wrong token of the same shape is a secret-shaped guess: redacted too.
      await send("POST", target.replace(token, `${token.slice(0, -4)}zzzz`));
    }
    const logs = h.logs().slice(before);
    const requestLines = logs.split("\n").filter((l) => l.includes('"request '));
    figure.providers[provider] = { spellings: targets.length, requests: targets.length * 3, logLines: logs.split("\n").filter(Boolean).length };
    expect(requestLines.length).toBeGreaterThanOrEqual(targets.length * 3);
    // No 12-character window of the token anywhere: not in clear, not percent-encoded, not lower-cased.
    for (let i = 0; i + 12 <= token.length; i += 4) {
      const piece = token.slice(i, i + 12);
      expect(logs).not.toContain(piece);
      expect(logs.toLowerCase()).not.toContain(piece.toLowerCase());
    }
    expect(logs).not.toContain("33612345678");
    // The lines still say which route was called.
    for (const line of requestLines) expect(line).toMatch(/"path":"[^"]*\[token\]|"path":"\/[^"]*"/);
    expect(requestLines.filter((l) => l.includes("[token]")).length).toBeGreaterThanOrEqual(targets.length);
  });
});

describe("error codes stay readable in log lines, OTP codes stay redacted", () => {
  test("a refused webhook's log line names its error code", async () => {
    const before = h.logs().length;
    const signed = h.signedGeneric({ messageId: "m-log-1", from: PHONES.fr, to: "+447400000999", text: "123456" });
    const res = await h.http().post("/v1/inbound/generic").set({ ...signed.headers, "webhook-signature": "v1,AAAA" }).send(signed.body);
    expect(res.status).toBe(403);
    const refused = h
      .logs()
      .slice(before)
      .split("\n")
      .filter((l) => l.includes("webhook refused"));
    expect(refused).toHaveLength(1);
    expect(JSON.parse(refused[0]!)).toMatchObject({ provider: "generic", code: "WEBHOOK_SIGNATURE_INVALID" });
  });

  test("a value of a `code` field that could be an OTP code is still redacted", () => {
    const before = h.logs().length;
    h.runtime.logger.info({ code: "123456", nested: { code: "K7MP2Q" } }, "a careless line");
    h.runtime.logger.info({ code: "RATE_LIMITED", nested: { code: "WEBHOOK_SIGNATURE_MISSING" } }, "an error line");
    const [careless, errorLine] = h
      .logs()
      .slice(before)
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { code: string; nested: { code: string } });
    expect(careless).toMatchObject({ code: "[redacted]", nested: { code: "[redacted]" } });
    expect(errorLine).toMatchObject({ code: "RATE_LIMITED", nested: { code: "WEBHOOK_SIGNATURE_MISSING" } });
  });
});
