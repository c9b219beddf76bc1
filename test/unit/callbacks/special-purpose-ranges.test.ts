// Every entry of the IANA special-purpose address registries, checked by the callback SSRF guard
// both where a callback URL is set (`checkCallbackUrl`, the literal address in the URL) and at
// delivery (`createGuardedLookup`, the addresses a host name resolves to).
//
// Sources (the registries as of their 2025 updates):
//   https://www.iana.org/assignments/iana-ipv4-special-registry/iana-ipv4-special-registry.xhtml
//   https://www.iana.org/assignments/iana-ipv6-special-registry/iana-ipv6-special-registry.xhtml
// plus the ranges that are special without being in those two registries: multicast (IANA's
// multicast registries, 224.0.0.0/4 and ff00::/8) and the IPv4-translated addresses of SIIT
// (::ffff:0:0:0/96, RFC 2765 §2.1; e.g. https://[::ffff:0:a9fe:a9fe]/ reaches 169.254.169.254
// through a translator).
//
// Policy: every special-purpose block is refused, including the few the registry marks globally
// reachable (anycast, AS112, AMT, ORCHIDv2, DRIP): none of them is a webhook receiver. The two
// translation prefixes through which IPv6-only networks reach the public IPv4 Internet —
// 64:ff9b::/96 (NAT64) and 2002::/16 (6to4) — and IPv4-mapped addresses are judged by the IPv4
// address they carry: refused when it is not public, allowed when it is.
import { describe, expect, test } from "@jest/globals";
import net from "node:net";
import { checkCallbackUrl, createGuardedLookup, PrivateAddressError } from "../../../src/callbacks/callback-url.js";

type Entry = { block: string; name: string };

const IPV4_REGISTRY: Entry[] = [
  { block: "0.0.0.0/8", name: '"This network"' },
  { block: "0.0.0.0/32", name: '"This host on this network"' },
  { block: "10.0.0.0/8", name: "Private-Use" },
  { block: "100.64.0.0/10", name: "Shared Address Space" },
  { block: "127.0.0.0/8", name: "Loopback" },
  { block: "169.254.0.0/16", name: "Link Local" },
  { block: "172.16.0.0/12", name: "Private-Use" },
  { block: "192.0.0.0/24", name: "IETF Protocol Assignments" },
  { block: "192.0.0.0/29", name: "IPv4 Service Continuity Prefix" },
  { block: "192.0.0.8/32", name: "IPv4 dummy address" },
  { block: "192.0.0.9/32", name: "Port Control Protocol Anycast" },
  { block: "192.0.0.10/32", name: "Traversal Using Relays around NAT Anycast" },
  { block: "192.0.0.170/32", name: "NAT64/DNS64 Discovery" },
  { block: "192.0.0.171/32", name: "NAT64/DNS64 Discovery" },
  { block: "192.0.2.0/24", name: "Documentation (TEST-NET-1)" },
  { block: "192.31.196.0/24", name: "AS112-v4" },
  { block: "192.52.193.0/24", name: "AMT" },
  { block: "192.88.99.0/24", name: "Deprecated (6to4 Relay Anycast)" },
  { block: "192.88.99.2/32", name: "6a44-relay anycast address" },
  { block: "192.168.0.0/16", name: "Private-Use" },
  { block: "192.175.48.0/24", name: "Direct Delegation AS112 Service" },
  { block: "198.18.0.0/15", name: "Benchmarking" },
  { block: "198.51.100.0/24", name: "Documentation (TEST-NET-2)" },
  { block: "203.0.113.0/24", name: "Documentation (TEST-NET-3)" },
  { block: "240.0.0.0/4", name: "Reserved" },
  { block: "255.255.255.255/32", name: "Limited Broadcast" },
  // Not in the special-purpose registry: the multicast space (IANA IPv4 multicast address space registry).
  { block: "224.0.0.0/4", name: "Multicast" },
];

const IPV6_REGISTRY: Entry[] = [
  { block: "::1/128", name: "Loopback Address" },
  { block: "::/128", name: "Unspecified Address" },
  { block: "64:ff9b:1::/48", name: "IPv4-IPv6 Translat. (local use)" },
  { block: "100::/64", name: "Discard-Only Address Block" },
  { block: "100:0:0:1::/64", name: "Dummy IPv6 Prefix" },
  { block: "2001::/23", name: "IETF Protocol Assignments" },
  { block: "2001::/32", name: "TEREDO" },
  { block: "2001:1::1/128", name: "Port Control Protocol Anycast" },
  { block: "2001:1::2/128", name: "Traversal Using Relays around NAT Anycast" },
  { block: "2001:1::3/128", name: "DNS-SD Service Registration Protocol Anycast" },
  { block: "2001:2::/48", name: "Benchmarking" },
  { block: "2001:3::/32", name: "AMT" },
  { block: "2001:4:112::/48", name: "AS112-v6" },
  { block: "2001:10::/28", name: "Deprecated (previously ORCHID)" },
  { block: "2001:20::/28", name: "ORCHIDv2" },
  { block: "2001:30::/28", name: "Drone Remote ID Protocol Entity Tags (DETs) Prefix" },
  { block: "2001:db8::/32", name: "Documentation" },
  { block: "2620:4f:8000::/48", name: "Direct Delegation AS112 Service" },
  { block: "3fff::/20", name: "Documentation" },
  { block: "5f00::/16", name: "Segment Routing (SRv6) SIDs" },
  { block: "fc00::/7", name: "Unique-Local" },
  { block: "fe80::/10", name: "Link-Local Unicast" },
  // Not in the special-purpose registry: multicast (IANA IPv6 multicast address space registry),
  // site-local (deprecated by RFC 3879, still routed inside some networks), IPv4-compatible (deprecated).
  { block: "ff00::/8", name: "Multicast" },
  { block: "fec0::/10", name: "Site-local (deprecated)" },
  { block: "::/96", name: "IPv4-compatible (deprecated)" },
  // IPv4-translated (SIIT): refused whatever IPv4 address it carries.
  { block: "::ffff:0:0:0/96", name: "IPv4-translated (RFC 2765)" },
];

/** Ranges judged by the IPv4 address they carry: [prefix, how an IPv4 address a.b.c.d is written in it]. */
const EMBEDDING: { block: string; name: string; embed: (v4: string) => string }[] = [
  { block: "::ffff:0:0/96", name: "IPv4-mapped Address", embed: (v4) => `::ffff:${v4}` },
  { block: "64:ff9b::/96", name: "IPv4-IPv6 Translat. (NAT64)", embed: (v4) => `64:ff9b::${v4}` },
  {
    block: "2002::/16",
    name: "6to4",
    embed: (v4) => {
      const [a, b, c, d] = v4.split(".").map(Number) as [number, number, number, number];
      const hex = (x: number, y: number) => ((x << 8) | y).toString(16);
      return `2002:${hex(a, b)}:${hex(c, d)}::1`;
    },
  },
];

// ---- address arithmetic (BigInt), so the test does not share code with the guard ----

function toBig(address: string): bigint {
  if (net.isIPv4(address)) return address.split(".").reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = toBig(dotted[1]!);
    text = `${text.slice(0, -dotted[1]!.length)}${((v4 >> 16n) & 0xffffn).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return all.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function fromBig(value: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join(".");
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((value >> s) & 0xffffn).toString(16));
  return groups.join(":");
}

function rangeOf(block: string): { family: 4 | 6; first: bigint; last: bigint } {
  const [address, prefixText] = block.split("/") as [string, string];
  const family = net.isIPv4(address) ? 4 : 6;
  const bits = family === 4 ? 32n : 128n;
  const hostBits = bits - BigInt(prefixText);
  const first = (toBig(address) >> hostBits) << hostBits;
  return { family, first, last: first + (1n << hostBits) - 1n };
}

/** The first, a middle and the last address of a block. */
function samples(block: string): string[] {
  const { family, first, last } = rangeOf(block);
  return [...new Set([first, first + (last - first) / 2n, last])].map((v) => fromBig(v, family));
}

const urlOf = (address: string) => (net.isIPv6(address) ? `https://[${address}]/hook` : `https://${address}/hook`);

async function lookupError(address: string): Promise<Error | null> {
  const guarded = createGuardedLookup({
    allowPrivateNetworks: false,
    resolve: async () => [{ address, family: net.isIPv6(address) ? 6 : 4 }],
  });
  return new Promise((resolve) => guarded("hooks.example.com", { all: true }, (error) => resolve(error)));
}

const refusedEverywhere = async (address: string) => {
  expect(checkCallbackUrl(urlOf(address), { allowPrivateNetworks: false })).toEqual(expect.stringContaining("non-public address"));
  expect(await lookupError(address)).toBeInstanceOf(PrivateAddressError);
};

const allowedEverywhere = async (address: string) => {
  expect(checkCallbackUrl(urlOf(address), { allowPrivateNetworks: false })).toBeUndefined();
  expect(await lookupError(address)).toBeNull();
};

describe("IANA IPv4 special-purpose registry", () => {
  test.each(IPV4_REGISTRY.map((e) => [e.block, e.name]))("%s (%s): first, middle and last address refused when set and at DNS time", async (block) => {
    for (const address of samples(block)) await refusedEverywhere(address);
  });
});

describe("IANA IPv6 special-purpose registry", () => {
  test.each(IPV6_REGISTRY.map((e) => [e.block, e.name]))("%s (%s): first, middle and last address refused when set and at DNS time", async (block) => {
    for (const address of samples(block)) await refusedEverywhere(address);
  });

  test("the example of the security review, https://[::ffff:0:a9fe:a9fe]/ (169.254.169.254 translated), is refused", async () => {
    expect(checkCallbackUrl("https://[::ffff:0:a9fe:a9fe]/", { allowPrivateNetworks: false })).toEqual(expect.stringContaining("non-public"));
    expect(checkCallbackUrl("https://[::ffff:0:169.254.169.254]/", { allowPrivateNetworks: false })).toEqual(expect.stringContaining("non-public"));
    expect(await lookupError("::ffff:0:a9fe:a9fe")).toBeInstanceOf(PrivateAddressError);
  });
});

describe("prefixes that carry an IPv4 address are judged by it", () => {
  const nonPublicV4 = IPV4_REGISTRY.flatMap((e) => samples(e.block));
  test.each(EMBEDDING.map((e) => [e.block, e.name, e] as const))("%s (%s): refused with every special-purpose IPv4 inside, allowed with a public one", async (_block, _name, entry) => {
    for (const v4 of nonPublicV4) await refusedEverywhere(entry.embed(v4));
    for (const v4 of ["8.8.8.8", "93.184.216.34", "1.1.1.1"]) await allowedEverywhere(entry.embed(v4));
  });
});

describe("the neighbours of every range stay reachable", () => {
  const everyBlock = [...IPV4_REGISTRY, ...IPV6_REGISTRY, ...EMBEDDING].map((e) => rangeOf(e.block));
  const inSomeBlock = (family: 4 | 6, value: bigint) => everyBlock.some((r) => r.family === family && value >= r.first && value <= r.last);
  const neighbours = [...IPV4_REGISTRY, ...IPV6_REGISTRY]
    .flatMap((e) => {
      const { family, first, last } = rangeOf(e.block);
      return [
        [family, first - 1n],
        [family, last + 1n],
      ] as const;
    })
    .filter(([family, value]) => value >= 0n && value < (family === 4 ? 1n << 32n : 1n << 128n) && !inSomeBlock(family, value))
    // Global unicast only for IPv6 (2000::/3): outside it, nothing is allocated.
    .filter(([family, value]) => family === 4 || value >> 125n === 1n)
    .map(([family, value]) => fromBig(value, family))
    .filter((address, i, all) => all.indexOf(address) === i);

  test("there are neighbours to check", () => {
    expect(neighbours.length).toBeGreaterThan(20);
  });

  test.each(neighbours)("%s is allowed when set and at DNS time", async (address) => {
    await allowedEverywhere(address);
  });
});
