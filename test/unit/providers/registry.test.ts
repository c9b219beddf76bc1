// The providers' list (src/providers/index.ts) is the one source of what providers exist: the
// configuration, the adapters, the senders, the start-up warnings, the README's and docs/providers'
// tables and the OpenAPI document all follow it, and each provider keeps its parts in its folder.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "@jest/globals";
import { CONFIG_KEYS, loadConfig } from "../../../src/config.js";
import { buildOpenApiDocument } from "../../../src/openapi/openapi.js";
import { createSenderRegistry, deliveryReportUrl } from "../../../src/outbound/sender-registry.js";
import { PROVIDER_DESCRIPTORS, PROVIDER_NAMES, PROVIDERS } from "../../../src/providers/index.js";
import { createProviderRegistry } from "../../../src/providers/registry.js";
import { PROVIDER_SECRET_VARIABLE, configuredProviders } from "../../../src/providers/unconfigured.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
const names = [...PROVIDER_NAMES];

/** The rows of the first Markdown table after `heading`, as cells. */
function tableAfter(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(heading);
  expect(start).toBeGreaterThanOrEqual(0);
  const lines = markdown.slice(start).split("\n");
  const first = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split(" | ").map((c) => c.trim()));
  }
  return rows;
}

describe("the providers' list", () => {
  test("names each provider once, and each descriptor lives in the folder of its name with its adapter and sender", () => {
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      for (const part of ["descriptor", "adapter", "sender"]) expect({ name, part, exists: existsSync(path.join(ROOT, `src/providers/${name}/${part}.ts`)) }).toEqual({ name, part, exists: true });
    }
  });

  test("each provider's guide and known-answer tests exist under its name", () => {
    for (const p of PROVIDERS) {
      expect(p.docs).toBe(`docs/providers/${p.name}.md`);
      // The generic provider is Standard Webhooks: its vectors and HTTP tests are named after them.
      const unit = p.name === "generic" ? "test/unit/standard-webhooks.test.ts" : `test/unit/providers/${p.name}.test.ts`;
      const http = p.name === "generic" ? "test/integration/webhook-security.test.ts" : `test/integration/providers/${p.name}.test.ts`;
      for (const file of [p.docs, unit, http]) expect({ file, exists: existsSync(path.join(ROOT, file)) }).toEqual({ file, exists: true });
    }
  });

  test("the configuration holds every provider's variables, with their own descriptions, each declared once", () => {
    const declared = PROVIDER_DESCRIPTORS.flatMap((p) => [...Object.entries(p.config.inbound), ...Object.entries(p.config.outbound)]);
    expect(new Set(declared.map(([key]) => key)).size).toBe(declared.length);
    for (const [key, spec] of declared) expect(CONFIG_KEYS[key as keyof typeof CONFIG_KEYS]).toBe(spec);
    for (const p of PROVIDER_DESCRIPTORS) {
      for (const variable of p.secretVariables) expect(Object.keys(p.config.inbound)).toContain(variable);
    }
  });

  test("adapters, senders, secret variables and the configured check cover exactly the list", () => {
    const config = loadConfig({});
    const adapters = createProviderRegistry({ ...config.providers, genericWebhookSecrets: [], messageIdKey: "k".repeat(32) });
    expect([...adapters.keys()]).toEqual(names);
    const senders = createSenderRegistry({ outbound: config.outbound, providers: config.providers, genericWebhookSecrets: [], publicBaseUrl: config.publicBaseUrl, now: () => new Date() });
    expect([...senders.keys()]).toEqual(names);
    expect(Object.keys(PROVIDER_SECRET_VARIABLE)).toEqual(names);
    expect(PROVIDER_SECRET_VARIABLE.sinch).toBe("SINCH_WEBHOOK_SECRET or SINCH_WEBHOOK_TOKEN");
    expect(configuredProviders(config.providers, [])).toEqual(Object.fromEntries(names.map((n) => [n, false])));
  });

  test("a provider reached by a path token says so in its descriptor, its adapter, and its delivery-report URL", () => {
    const adapters = createProviderRegistry({ ...loadConfig({}).providers, genericWebhookSecrets: [], messageIdKey: "k".repeat(32) });
    for (const p of PROVIDERS) {
      const byToken = p.pathToken !== "never";
      expect({ name: p.name, usesPathToken: adapters.get(p.name)!.usesPathToken }).toEqual({ name: p.name, usesPathToken: byToken });
      expect({ name: p.name, withoutToken: deliveryReportUrl("https://otp.example.com", p.name, []) }).toEqual({
        name: p.name,
        withoutToken: byToken ? undefined : `https://otp.example.com/v1/delivery-reports/${p.name}`,
      });
      expect({ name: p.name, mentions: /path token/.test(p.authentication) }).toEqual({ name: p.name, mentions: byToken });
    }
  });
});

describe("the tables that list providers follow the list", () => {
  test("README.md: one row per provider, in order, with its webhook path, secret variable(s) and guide", () => {
    const rows = tableAfter(read("README.md"), "## Providers");
    expect(rows).toHaveLength(PROVIDERS.length);
    rows.forEach(([title, webhook, secret, guide], i) => {
      const p = PROVIDERS[i]!;
      expect({ name: p.name, title: title!.startsWith(p.displayName) }).toEqual({ name: p.name, title: true });
      expect(webhook).toContain(`\`/v1/inbound/${p.name}`);
      expect({ name: p.name, token: webhook!.includes(`/v1/inbound/${p.name}/<token>`) }).toEqual({ name: p.name, token: p.pathToken !== "never" });
      expect(secret).toBe(p.secretVariables.map((v) => `\`${v}\``).join(" or "));
      expect(guide).toBe(`[${p.name}](${p.docs})`);
    });
  });

  test("docs/providers/README.md: one row per provider, in order, linking its page", () => {
    const rows = tableAfter(read("docs/providers/README.md"), "| provider | page |");
    expect(rows.map(([, page]) => page)).toEqual(PROVIDERS.map((p) => `[${p.name}.md](${p.name}.md)`));
    rows.forEach(([title, , proof], i) => {
      const p = PROVIDERS[i]!;
      expect({ title, ok: title!.toLowerCase().startsWith(p.displayName.toLowerCase()) }).toEqual({ title, ok: true });
      expect({ name: p.name, token: proof!.includes("path token") }).toEqual({ name: p.name, token: p.pathToken !== "never" });
    });
  });

  test("OpenAPI: an inbound webhook and a delivery-report path per provider and no other, each naming the provider and its guide", () => {
    const doc = buildOpenApiDocument({ publicBaseUrl: "https://otp.example.com" });
    const providerOf = (prefix: string) =>
      Object.keys(doc.paths)
        .filter((p) => p.startsWith(prefix))
        .map((p) => p.slice(prefix.length).split("/")[0]);
    expect(providerOf("/v1/inbound/")).toEqual(names);
    expect(providerOf("/v1/delivery-reports/")).toEqual(names);
    for (const p of PROVIDERS) {
      const item = Object.entries(doc.paths).find(([key]) => key.startsWith(`/v1/inbound/${p.name}`))![1] as Record<string, { description?: string }>;
      const description = item.post?.description ?? "";
      expect(description).toContain(`Called by ${p.displayName}`);
      expect(description).toContain(p.docs);
    }
  });
});
