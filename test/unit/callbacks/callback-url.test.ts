// The SSRF guard of callbacks: which addresses and URLs are refused, and the DNS lookup that checks
// every resolved address (with a stand-in resolver: no network needed).
import { describe, expect, test } from "@jest/globals";
import {
  checkCallbackUrl,
  createGuardedLookup,
  nonPublicAddressReason,
  PrivateAddressError,
  type ResolvedAddress,
} from "../../../src/callbacks/callback-url.js";

describe("nonPublicAddressReason", () => {
  test.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "link-local"],
    ["100.64.0.1", "CGNAT"],
    ["100.127.255.255", "CGNAT"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.10", "documentation"],
    ["198.18.0.1", "benchmarking"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["fd12:3456:789a::1", "unique local"],
    ["fc00::1", "unique local"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "documentation"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:169.254.169.254", "link-local"],
    ["::127.0.0.1", "IPv4-compatible"],
    ["64:ff9b::a00:1", "private"],
    ["64:ff9b::127.0.0.1", "loopback"],
    ["2002:c0a8:0101::1", "private"],
    ["2001:0:4136:e378::1", "Teredo"],
  ])("%s is refused (%s)", (address, reason) => {
    expect(nonPublicAddressReason(address)).toEqual(expect.stringContaining(reason));
  });

  test.each([
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.63.255.255",
    "100.128.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.169.0.1",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:0808:0808::1",
  ])("%s is public", (address) => {
    expect(nonPublicAddressReason(address)).toBeUndefined();
  });
});

describe("checkCallbackUrl without CALLBACKS_ALLOW_PRIVATE_NETWORKS", () => {
  const strict = { allowPrivateNetworks: false };

  test.each([
    "https://hooks.example.com/reverse-otp",
    "https://hooks.example.com:8443/path?token=abc",
    "https://8.8.8.8/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://example.com./hook",
  ])("accepts %s", (url) => {
    expect(checkCallbackUrl(url, strict)).toBeUndefined();
  });

  test.each([
    ["http://hooks.example.com/", "https"],
    ["ftp://hooks.example.com/", "https"],
    ["not a url", "absolute URL"],
    ["/relative/path", "absolute URL"],
    ["https://user:secret@hooks.example.com/", "credentials"],
    ["https://127.0.0.1/", "loopback"],
    ["https://2130706433/", "loopback"],
    ["https://0x7f.0.0.1/", "loopback"],
    ["https://127.1/", "loopback"],
    ["https://[::1]/", "loopback"],
    ["https://[::ffff:127.0.0.1]/", "loopback"],
    ["https://[::ffff:a9fe:a9fe]/", "link-local"],
    ["https://169.254.169.254/latest/meta-data", "link-local"],
    ["https://10.0.0.5/", "private"],
    ["https://100.100.100.100/", "CGNAT"],
    ["https://[fd00::5]/", "unique local"],
    ["https://[fe80::1]/", "link-local"],
    ["https://0.0.0.0/", "unspecified"],
    ["https://[::]/", "unspecified"],
    ["https://224.0.0.251/", "multicast"],
    ["https://localhost/", "public host"],
    ["https://LOCALHOST./", "public host"],
    ["https://api.localhost/", "public host"],
    ["https://printer.local/", "public host"],
    ["https://metadata.google.internal/", "public host"],
    ["https://intranet/", "public host"],
    [`https://hooks.example.com/${"a".repeat(2100)}`, "at most"],
  ])("refuses %s (%s)", (url, problem) => {
    expect(checkCallbackUrl(url, strict)).toEqual(expect.stringContaining(problem));
  });
});

describe("checkCallbackUrl with CALLBACKS_ALLOW_PRIVATE_NETWORKS=true", () => {
  const relaxed = { allowPrivateNetworks: true };

  test.each(["http://127.0.0.1:4000/hook", "http://localhost:4000/hook", "https://10.0.0.5/hook", "http://[::1]:8080/"])(
    "accepts %s",
    (url) => {
      expect(checkCallbackUrl(url, relaxed)).toBeUndefined();
    },
  );

  test.each([
    ["ftp://127.0.0.1/", "https"],
    ["http://user:pw@127.0.0.1/", "credentials"],
    ["nope", "absolute URL"],
  ])("still refuses %s (%s)", (url, problem) => {
    expect(checkCallbackUrl(url, relaxed)).toEqual(expect.stringContaining(problem));
  });
});

describe("the guarded DNS lookup", () => {
  const resolverOf = (answers: Record<string, ResolvedAddress[]>) => async (host: string) => answers[host] ?? [];
  const answers = {
    "public.example.com": [{ address: "93.184.216.34", family: 4 }],
    "rebind.example.com": [{ address: "10.0.0.7", family: 4 }],
    "mixed.example.com": [
      { address: "93.184.216.34", family: 4 },
      { address: "::1", family: 6 },
    ],
    "mapped.example.com": [{ address: "::ffff:127.0.0.1", family: 6 }],
  };

  function lookup(host: string, all: boolean, allowPrivateNetworks = false) {
    const guarded = createGuardedLookup({ allowPrivateNetworks, resolve: resolverOf(answers) });
    return new Promise<{ error: Error | null; address: unknown; family?: number }>((resolve) => {
      guarded(host, { all }, (error, address, family) => resolve({ error, address, family }));
    });
  }

  test("passes a public answer through, as one address or as a list", async () => {
    expect(await lookup("public.example.com", false)).toEqual({ error: null, address: "93.184.216.34", family: 4 });
    expect(await lookup("public.example.com", true)).toEqual({ error: null, address: answers["public.example.com"], family: undefined });
  });

  test.each(["rebind.example.com", "mixed.example.com", "mapped.example.com"])(
    "refuses %s, which resolves to a non-public address",
    async (host) => {
      for (const all of [false, true]) {
        const { error } = await lookup(host, all);
        expect(error).toBeInstanceOf(PrivateAddressError);
        expect(error!.message).toContain(host);
      }
    },
  );

  test("a name without an address is ENOTFOUND", async () => {
    const { error } = await lookup("nothing.example.com", false);
    expect((error as NodeJS.ErrnoException).code).toBe("ENOTFOUND");
  });

  test("with private networks allowed, private answers pass", async () => {
    expect(await lookup("rebind.example.com", false, true)).toEqual({ error: null, address: "10.0.0.7", family: 4 });
  });
});
