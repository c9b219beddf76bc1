// Where callbacks may go (SSRF guard). A callback URL is chosen by whoever creates the app, and the
// service POSTs to it from inside the operator's network: without a guard it could reach loopback
// services, the cloud metadata endpoint (169.254.169.254), or anything on the private network.
//
// Two checks, both off when CALLBACKS_ALLOW_PRIVATE_NETWORKS=true (tests and local setups):
// - at creation and again before each delivery, on the URL itself (`checkCallbackUrl`): https only,
//   no credentials, no local host names, no literal non-public address;
// - at delivery, on every address the host name resolves to (`createGuardedLookup`). The lookup is
//   the one the connection uses, so the address checked is the address connected to: a DNS answer
//   that changes between a check and the connection (DNS rebinding) cannot slip through.
import dns from "node:dns";
import net from "node:net";

export type CallbackUrlOptions = { allowPrivateNetworks: boolean };

/** Long enough for any real endpoint with a token in its query, short enough to log. */
export const MAX_CALLBACK_URL_LENGTH = 2048;

// Every special-purpose range of the IANA registries (also the few marked globally reachable:
// anycast, AS112, AMT, ORCHIDv2, DRIP; none of them is a webhook receiver), and multicast.
// https://www.iana.org/assignments/iana-ipv4-special-registry and
// https://www.iana.org/assignments/iana-ipv6-special-registry; test/unit/callbacks/special-purpose-ranges.test.ts
// checks every entry of both, when a URL is set and at DNS time. Not blocked as a whole: the
// prefixes that carry an IPv4 address on the way to the public Internet (IPv4-mapped, NAT64 64:ff9b::/96,
// 6to4 2002::/16); `embeddedIpv4` judges those by that address.
const BLOCKED_IPV4: readonly [string, number, string][] = [
  ["0.0.0.0", 8, "unspecified (\"this network\")"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "shared address space (CGNAT)"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local (cloud metadata)"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "IETF protocol assignments"],
  ["192.0.2.0", 24, "documentation"],
  ["192.31.196.0", 24, "AS112 DNS sink"],
  ["192.52.193.0", 24, "AMT relay anycast"],
  ["192.88.99.0", 24, "6to4 relay anycast"],
  ["192.168.0.0", 16, "private"],
  ["192.175.48.0", 24, "AS112 DNS sink (direct delegation)"],
  ["198.18.0.0", 15, "benchmarking"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved (and broadcast)"],
];

const BLOCKED_IPV6: readonly [string, number, string][] = [
  ["::", 128, "unspecified"],
  ["::1", 128, "loopback"],
  // IPv4-compatible addresses (deprecated); IPv4-mapped ones (::ffff:0:0/96) are judged by their IPv4 part.
  ["::", 96, "IPv4-compatible"],
  // IPv4-translated addresses (SIIT, RFC 2765 §2.1: ::ffff:0:a.b.c.d): a translator on the path
  // would carry the connection to a.b.c.d, e.g. https://[::ffff:0:a9fe:a9fe]/ to 169.254.169.254.
  // Not in the IANA registry, and never a webhook receiver: refused whatever address it carries.
  ["::ffff:0:0:0", 96, "IPv4-translated"],
  ["64:ff9b:1::", 48, "local-use NAT64"],
  ["100::", 64, "discard-only"],
  ["100:0:0:1::", 64, "dummy prefix"],
  ["2001::", 23, "IETF protocol assignments (Teredo, …)"],
  ["2001:db8::", 32, "documentation"],
  ["2620:4f:8000::", 48, "AS112 DNS sink (direct delegation)"],
  ["3fff::", 20, "documentation"],
  ["5f00::", 16, "segment routing SIDs"],
  ["fc00::", 7, "unique local (private)"],
  ["fe80::", 10, "link-local"],
  ["fec0::", 10, "site-local (deprecated)"],
  ["ff00::", 8, "multicast"],
];

const blockList = new net.BlockList();
const reasons: { list: net.BlockList; reason: string }[] = [];
for (const [address, prefix, reason] of BLOCKED_IPV4) {
  blockList.addSubnet(address, prefix, "ipv4");
  const one = new net.BlockList();
  one.addSubnet(address, prefix, "ipv4");
  reasons.push({ list: one, reason });
}
for (const [address, prefix, reason] of BLOCKED_IPV6) {
  blockList.addSubnet(address, prefix, "ipv6");
  const one = new net.BlockList();
  one.addSubnet(address, prefix, "ipv6");
  reasons.push({ list: one, reason });
}

/** The 16 bytes of an IPv6 address (also with a trailing dotted IPv4 part); undefined if invalid. */
function ipv6Bytes(address: string): number[] | undefined {
  if (net.isIPv6(address) === false) return undefined;
  let text = address.split("%")[0]!; // zone index
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (dotted) {
    tail = dotted[1]!.split(".").map(Number);
    text = text.slice(0, -dotted[1]!.length) + "0:0";
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  const groups = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = all.flatMap((g) => [g >> 8, g & 0xff]);
  if (dotted) bytes.splice(12, 4, ...tail);
  return bytes.length === 16 ? bytes : undefined;
}

/** The IPv4 address an IPv6 address carries and that decides where it goes, if any. */
function embeddedIpv4(address: string): string | undefined {
  const b = ipv6Bytes(address);
  if (!b) return undefined;
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const v4 = (from: number) => b.slice(from, from + 4).join(".");
  // ::ffff:a.b.c.d (IPv4-mapped): the socket connects to a.b.c.d.
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4(12);
  // 64:ff9b::a.b.c.d (well-known NAT64 prefix): a translator connects to a.b.c.d.
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return v4(12);
  // 2002:aabb:ccdd::/48 (6to4): tunnelled to aa.bb.cc.dd.
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2);
  return undefined;
}

/**
 * Why `address` (a literal IPv4 or IPv6 address) is not a public destination, or undefined when it
 * is one. IPv6 addresses that embed an IPv4 address are judged by it as well.
 */
export function nonPublicAddressReason(address: string): string | undefined {
  const family = net.isIP(address);
  if (family === 0) return "not an IP address";
  const type = family === 4 ? "ipv4" : "ipv6";
  if (blockList.check(address, type)) {
    return reasons.find((r) => r.list.check(address, type))?.reason ?? "not public";
  }
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner) {
      const reason = nonPublicAddressReason(inner);
      if (reason) return `${reason} (embedded IPv4 ${inner})`;
    }
  }
  return undefined;
}

/** Host names that name this machine or a local network, whatever DNS says. */
function isLocalHostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (!h.includes(".")) return true; // single label: "localhost", "intranet", search-domain names
  return [".localhost", ".local", ".internal", ".home.arpa", ".lan"].some((suffix) => h.endsWith(suffix));
}

/**
 * Checks a callback URL; returns the problem in words, or undefined when the URL is acceptable.
 * Used when an app is created and again before each delivery (the setting may have changed since).
 */
export function checkCallbackUrl(value: string, options: CallbackUrlOptions): string | undefined {
  if (value.length > MAX_CALLBACK_URL_LENGTH) return `must have at most ${MAX_CALLBACK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an absolute URL";
  }
  if (url.protocol !== "https:" && !(options.allowPrivateNetworks && url.protocol === "http:")) {
    return "must use https (http only with CALLBACKS_ALLOW_PRIVATE_NETWORKS=true)";
  }
  if (url.username || url.password) return "must not contain credentials";
  if (options.allowPrivateNetworks) return undefined;
  // The WHATWG parser has already turned 2130706433, 0x7f.1 and [::ffff:127.0.0.1] into canonical
  // addresses, so odd spellings of an address are caught here too.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (net.isIP(host) !== 0) {
    const reason = nonPublicAddressReason(host);
    return reason ? `must not point to a non-public address (${reason}; allowed only with CALLBACKS_ALLOW_PRIVATE_NETWORKS=true)` : undefined;
  }
  if (isLocalHostName(host)) {
    return "must name a public host (local names are allowed only with CALLBACKS_ALLOW_PRIVATE_NETWORKS=true)";
  }
  return undefined;
}

/** Thrown (through the lookup) when a host name resolves to a non-public address. */
export class PrivateAddressError extends Error {
  readonly code = "ERR_CALLBACK_PRIVATE_ADDRESS";
  constructor(host: string, address: string, reason: string) {
    super(`${host} resolves to ${address}, a non-public address (${reason})`);
    this.name = "PrivateAddressError";
  }
}

export type ResolvedAddress = { address: string; family: number };
export type Resolver = (hostname: string, family: number) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = (hostname, family) =>
  dns.promises.lookup(hostname, { all: true, family: family === 4 || family === 6 ? family : 0, verbatim: true });

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | ResolvedAddress[], family?: number) => void;
export type GuardedLookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => void;

/**
 * A `lookup` for node:http(s) `request` that resolves the host and refuses it when any of its
 * addresses is not public (one bad address is enough: which one gets used is not ours to choose).
 * With `allowPrivateNetworks` it only resolves.
 */
export function createGuardedLookup(options: CallbackUrlOptions & { resolve?: Resolver }): GuardedLookup {
  const resolve = options.resolve ?? systemResolver;
  return (hostname, lookupOptions, callback) => {
    resolve(hostname, typeof lookupOptions.family === "number" ? lookupOptions.family : 0).then(
      (addresses) => {
        if (addresses.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "", 0);
          return;
        }
        if (!options.allowPrivateNetworks) {
          for (const a of addresses) {
            const reason = nonPublicAddressReason(a.address);
            if (reason) {
              callback(new PrivateAddressError(hostname, a.address, reason), "", 0);
              return;
            }
          }
        }
        if (lookupOptions.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };
}
