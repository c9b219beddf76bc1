// clientKey: IPv4 per address, IPv6 per /64, IPv4-mapped IPv6 as its IPv4 address.
import { describe, expect, test } from "@jest/globals";
import fc from "fast-check";
import { clientKey } from "../../../src/limits/client-key.js";

describe("clientKey", () => {
  test.each([
    ["203.0.113.9", "203.0.113.9"],
    ["::ffff:203.0.113.9", "203.0.113.9"],
    ["::ffff:cb00:7109", "203.0.113.9"],
    ["::FFFF:203.0.113.9", "203.0.113.9"],
    ["2001:db8:a:b::1", "2001:db8:a:b::/64"],
    ["2001:0DB8:000A:000B:ffff:ffff:ffff:ffff", "2001:db8:a:b::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["64:ff9b::203.0.113.9", "64:ff9b:0:0::/64"],
    [undefined, "unknown"],
    ["", "unknown"],
    ["not an address", "unknown"],
  ])("%s → %s", (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });

  const group = fc.integer({ min: 0, max: 0xffff });
  const groups = (n: number) => fc.array(group, { minLength: n, maxLength: n });
  const spell = (gs: number[], upper: boolean) => gs.map((g) => (upper ? g.toString(16).toUpperCase() : g.toString(16).padStart(4, "0"))).join(":");

  test("every address of one /64 has the key of that /64, however it is written", () => {
    fc.assert(
      fc.property(groups(4).filter((p) => !(p.every((g) => g === 0))), groups(4), groups(4), fc.boolean(), (prefix, a, b, upper) => {
        expect(clientKey(spell([...prefix, ...a], upper))).toBe(clientKey(spell([...prefix, ...b], !upper)));
      }),
    );
  });

  test("addresses of two different /64 have different keys", () => {
    fc.assert(
      fc.property(groups(4), groups(4), groups(4), (p, q, iid) => {
        fc.pre(p.some((g, i) => g !== q[i]));
        expect(clientKey(spell([...p, ...iid], false))).not.toBe(clientKey(spell([...q, ...iid], false)));
      }),
    );
  });

  test("two IPv4 addresses never share a key", () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((t) => t.join("."));
    fc.assert(
      fc.property(v4, v4, (a, b) => {
        fc.pre(a !== b);
        expect(clientKey(a)).not.toBe(clientKey(b));
        expect(clientKey(`::ffff:${a}`)).toBe(clientKey(a));
      }),
    );
  });
});
