// Who "one client" is for per-client limits: an IPv4 address, or the /64 of an IPv6 address.
//
// An IPv6 host usually holds a whole /64 (SLAAC, privacy extensions: RFC 8981 rotates the interface
// identifier by itself, and any host can pick more), so counting per IPv6 address would let one
// client multiply its allowance by 2^64. A /64 is the smallest block a network hands to one link;
// it is what per-client limits count. IPv4-mapped addresses (`::ffff:a.b.c.d`, what a dual-stack
// socket reports for an IPv4 peer) are their IPv4 address.
import net from "node:net";

/** The key of the client at `ip` (Express's `req.ip`); "unknown" when there is none. */
export function clientKey(ip: string | undefined): string {
  if (!ip) return "unknown";
  const address = ip.split("%")[0]!; // a zone index names a local interface, not a client
  if (net.isIPv4(address)) return address;
  if (!net.isIPv6(address)) return "unknown";
  const groups = ipv6Groups(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join(".");
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (a trailing dotted IPv4 part included). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  const tail: number[] = [];
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, -dotted[0].length);
    if (text.endsWith(":") && !text.endsWith("::")) text = text.slice(0, -1);
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = [...(rest === undefined ? [] : parse(rest)), ...tail];
  if (rest === undefined) return [...left, ...right];
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}
