// What the helpers of the path-token providers (Sinch, smsmode, Infobip) share: the request shape,
// the webhook path with its token, the InboundRequest an adapter sees, and near-miss tokens.
import type { InboundRequest } from "../../../src/providers/provider.js";

/** A request as a provider would send it: method, path with query, headers, raw body. */
export type PathTokenRequest = {
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body: string;
};

/** The path of an unsigned provider's webhook with its secret token (percent-encoded). */
export function inboundPath(provider: string, token: string | undefined): string {
  return token === undefined ? `/v1/inbound/${provider}` : `/v1/inbound/${provider}/${encodeURIComponent(token)}`;
}

/**
 * The InboundRequest the route hands to an adapter for this request: the public URL from the
 * configured base, the path token percent-decoded (as Express decodes route parameters).
 */
export function toInboundRequest(req: PathTokenRequest, options: { publicBaseUrl?: string; receivedAt: Date }): InboundRequest {
  const [pathname] = req.path.split("?");
  const segments = pathname!.split("/");
  // ["", "v1", "inbound", "<provider>", "<token>"?]
  const rawToken = segments[4];
  return {
    method: req.method,
    publicUrl: `${options.publicBaseUrl ?? "https://otp.example.test"}${req.path}`,
    headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v])),
    rawBody: Buffer.from(req.body, "utf8"),
    ...(rawToken !== undefined ? { pathToken: decodeURIComponent(rawToken) } : {}),
    receivedAt: options.receivedAt,
  };
}

/** A different character of the token alphabet [A-Za-z0-9_-] at the same place. */
function otherChar(c: string): string {
  return c === "a" ? "b" : "a";
}

/**
 * Presented tokens that must be refused when `token` is the configured one: one character off at
 * either end and in the middle, one longer, one shorter, case changes, padding, repetition, a
 * prefix, and a percent-escape that was never decoded. Each keeps every other character.
 */
export function pathTokenNearMisses(token: string): { name: string; presented: string }[] {
  const mid = Math.floor(token.length / 2);
  const at = (i: number) => token.slice(0, i) + otherChar(token[i]!) + token.slice(i + 1);
  const cases = [
    { name: "first character changed", presented: at(0) },
    { name: "middle character changed", presented: at(mid) },
    { name: "last character changed", presented: at(token.length - 1) },
    { name: "one character longer", presented: `${token}a` },
    { name: "one character shorter", presented: token.slice(0, -1) },
    { name: "first character dropped", presented: token.slice(1) },
    { name: "upper-cased", presented: token.toUpperCase() },
    { name: "lower-cased", presented: token.toLowerCase() },
    { name: "trailing space", presented: `${token} ` },
    { name: "leading space", presented: ` ${token}` },
    { name: "trailing newline", presented: `${token}\n` },
    { name: "repeated twice", presented: token + token },
    { name: "its first 32 characters", presented: token.slice(0, 32) },
    { name: "first character as an undecoded %-escape", presented: `%${token.charCodeAt(0).toString(16).toUpperCase()}${token.slice(1)}` },
  ];
  return cases.filter((c) => c.presented !== token);
}
