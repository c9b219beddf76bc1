// The per-request log line (src/http/logger.ts requestLogger) through a real HTTP server.
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { afterEach, describe, expect, test } from "@jest/globals";
import { createLogger, isReadableErrorCode, requestLogger, safePath } from "../../../src/http/logger.js";

type Line = { level: number; msg: string; req?: { id?: string; method?: string; path?: string }; res?: { statusCode?: number }; responseTime?: number };

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server whose handler answers `status` (or never, for "hang"), logging through requestLogger. */
async function serve(level: string, status: number | "hang") {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  const log = requestLogger(createLogger(level, sink));
  server = createServer((req, res) =>
    log(req, res, () => {
      if (status === "hang") return;
      res.statusCode = status;
      res.end("ok");
    }),
  );
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const port = (server!.address() as AddressInfo).port;
  return { lines, port };
}

function get(port: number, path: string, headers: Record<string, string> = {}, abortAfterMs?: number) {
  return new Promise<{ status: number; requestId: string | undefined } | "aborted">((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, requestId: res.headers["x-request-id"] as string | undefined }));
    });
    req.on("error", (error) => (abortAfterMs === undefined ? reject(error) : resolve("aborted")));
    req.end();
    if (abortAfterMs !== undefined) setTimeout(() => req.destroy(), abortAfterMs);
  });
}

const waitFor = async (fn: () => boolean) => {
  for (let i = 0; i < 200 && !fn(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe("requestLogger", () => {
  test("one line per request with id, method, path without query string, status and time; the id is echoed", async () => {
    const { lines, port } = await serve("debug", 200);
    const answer = await get(port, "/v1/inbound/generic?from=%2B33612345678&text=123456");
    await waitFor(() => lines.length > 0);
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line!.msg).toBe("request completed");
    expect(line!.level).toBe(20); // debug for 2xx
    expect(line!.req).toEqual({ id: expect.any(String), method: "GET", path: "/v1/inbound/generic" });
    expect(line!.res).toEqual({ statusCode: 200 });
    expect(typeof line!.responseTime).toBe("number");
    expect(answer).toEqual({ status: 200, requestId: line!.req!.id });
    expect(JSON.stringify(lines)).not.toContain("33612345678");
  });

  test("a well-formed X-Request-Id is kept; a malformed one is replaced by a new id", async () => {
    const { lines, port } = await serve("debug", 200);
    const kept = await get(port, "/x", { "x-request-id": "abc-123_XYZ.42" });
    const replaced = await get(port, "/x", { "x-request-id": "bad id with spaces and \u00e9" });
    await waitFor(() => lines.length >= 2);
    expect(kept).toMatchObject({ requestId: "abc-123_XYZ.42" });
    expect(replaced).not.toBe("aborted");
    const replacedId = (replaced as { requestId: string }).requestId;
    expect(replacedId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.map((l) => l.req?.id)).toEqual(["abc-123_XYZ.42", replacedId]);
  });

  test("4xx is logged at info, 5xx at error, 2xx not at all when the level is info", async () => {
    for (const [status, level] of [
      [404, 30],
      [503, 50],
    ] as const) {
      const { lines, port } = await serve("info", status);
      await get(port, "/x");
      await waitFor(() => lines.length > 0);
      expect(lines.map((l) => [l.level, l.res?.statusCode])).toEqual([[level, status]]);
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    }
    const { lines, port } = await serve("info", 200);
    await get(port, "/x");
    await new Promise((r) => setTimeout(r, 50));
    expect(lines).toEqual([]);
  });

  test("a client that leaves before the answer is logged once as aborted", async () => {
    const { lines, port } = await serve("debug", "hang");
    expect(await get(port, "/v1/challenges/chl_x?waitSeconds=30", {}, 50)).toBe("aborted");
    await waitFor(() => lines.length > 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, msg: "request aborted", req: { path: "/v1/challenges/chl_x" } });
  });
});

describe("safePath and the code censor", () => {
  test.each([
    ["/v1/inbound/sinch/tok3nTok3nTok3nTok3nTok3nTok3nTok3n", "/v1/inbound/sinch/[token]"],
    ["//v1/inbound/sinch/tok3nTok3n", "/v1/inbound/sinch/[token]"],
    ["/V1/INBOUND/SINCH/tok3nTok3n?x=1", "/v1/inbound/sinch/[token]"],
    ["http://otp.example.test/v1/inbound/smsmode/tok3n", "/v1/inbound/smsmode/[token]"],
    ["HTTPS://OTP.EXAMPLE.TEST:8443//V1//Inbound//infobip//tok3n/more", "/v1/inbound/infobip/[token]"],
    ["/v1/%69nbound/sinch/tok3n", "/v1/inbound/sinch/[token]"],
    ["/v1/inbound/%E0%A4%A/tok3n", "/v1/inbound/[invalid]/[token]"],
    ["/v1/inbound/tok3nTok3nTok3nTok3nTok3nTok3n", "/v1/inbound/[invalid]"],
    ["/v1/inbound/twilio?From=%2B33612345678", "/v1/inbound/twilio"],
    ["/v1/challenges/chl_0000000000000000000000?waitSeconds=5", "/v1/challenges/chl_0000000000000000000000"],
    ["http://otp.example.test", "/"],
    ["", "/"],
  ])("%s is logged as %s", (url, logged) => {
    expect(safePath(url)).toBe(logged);
  });

  test.each([
    ["WEBHOOK_SIGNATURE_INVALID", true],
    ["INTERNAL", true],
    ["FORBIDDEN", true],
    ["ECONNREFUSED", true],
    ["ERR_CALLBACK_PRIVATE_ADDRESS", true],
    ["P2002", true],
    ["123456", false],
    ["K7MP2Q", false],
    ["EPERM", false],
    ["k7mp2q", false],
    ["code 123456", false],
    [123456, false],
    [undefined, false],
  ])("a code field holding %j stays readable: %s", (value, readable) => {
    expect(isReadableErrorCode(value)).toBe(readable);
  });
});
