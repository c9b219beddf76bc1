// One HTTP POST of a callback, behind the SSRF guard. node:http(s) rather than fetch: only `request`
// takes a `lookup`, and that is what makes the checked address the connected one (see
// callback-url.ts). No redirect is followed (a 3xx is a failed attempt), no proxy from the
// environment is used, and every attempt gets a fresh connection (no socket shared across targets).
import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import { checkCallbackUrl, createGuardedLookup, nonPublicAddressReason, PrivateAddressError, type Resolver } from "./callback-url.js";

export type CallbackRequest = { url: string; headers: Record<string, string>; body: string };

export type SendResult =
  | { ok: true; status: number }
  /** `status` when the receiver answered; `error` is short and holds no secret. */
  | { ok: false; status?: number; error: string };

export type SendOptions = {
  allowPrivateNetworks: boolean;
  /** Deadline for the whole attempt: resolving, connecting, TLS, and the answer. */
  timeoutMs: number;
  /** DNS resolver (tests); the system resolver otherwise. */
  resolve?: Resolver;
};

const MAX_ERROR_LENGTH = 200;

function describe(error: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `timeout after ${timeoutMs} ms`;
  if (error instanceof PrivateAddressError) return `refused: ${error.message}`;
  const e = error as NodeJS.ErrnoException;
  const text = e.code ? `${e.code}: ${e.message}` : String(e?.message ?? e);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

export function sendCallback(request: CallbackRequest, options: SendOptions): Promise<SendResult> {
  const problem = checkCallbackUrl(request.url, options);
  if (problem) return Promise.resolve({ ok: false, error: `refused: callback URL ${problem}` });
  const url = new URL(request.url);
  const transport = url.protocol === "https:" ? https : http;
  const lookup = createGuardedLookup(options);

  return new Promise<SendResult>((resolve) => {
    let settled = false;
    let timedOut = false;
    const settle = (result: SendResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const req = transport.request(url, {
      method: "POST",
      headers: { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) },
      agent: false,
      lookup: lookup as unknown as typeof import("node:dns").lookup,
    });
    // The deadline covers the body of the answer too: a receiver that never finishes is cut off.
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Error("timeout"));
    }, options.timeoutMs);
    req.on("close", () => clearTimeout(timer));
    req.on("socket", (socket: Socket) => {
      // Belt and braces: the lookup refused private names already, and literal addresses were
      // checked with the URL; this checks the peer of the TCP connection itself.
      socket.once("connect", () => {
        const address = socket.remoteAddress;
        const reason = !options.allowPrivateNetworks && address ? nonPublicAddressReason(address) : undefined;
        if (reason) req.destroy(new PrivateAddressError(url.hostname, address!, reason));
      });
    });
    req.on("error", (error) => settle({ ok: false, error: describe(error, timedOut, options.timeoutMs) }));
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      res.resume(); // the answer's body is not used
      res.on("error", () => undefined);
      if (status >= 200 && status < 300) settle({ ok: true, status });
      else if (status >= 300 && status < 400) settle({ ok: false, status, error: `HTTP ${status} (redirects are not followed)` });
      else settle({ ok: false, status, error: `HTTP ${status}` });
    });
    req.end(request.body);
  });
}
