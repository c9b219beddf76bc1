// What a provider's folder declares about it (src/providers/<name>/descriptor.ts), and what the
// list of providers (src/providers/index.ts) is made of: its names, its environment variables
// (each with its zod schema and the description that docs/configuration.md repeats), how it proves
// a request's origin, its guide, how to build its inbound adapter and its SMS sender from the
// parsed configuration, how its delivery reports read, and what the OpenAPI document says of it. src/config.ts composes the variables, providers/registry.ts the adapters,
// outbound/sender-registry.ts the senders, outbound/delivery-report-service.ts the delivery-report
// readers, openapi/openapi.ts the webhook and delivery-report paths, providers/unconfigured.ts the start-up warnings, and
// test/unit/providers/registry.test.ts checks the README, OpenAPI and configuration tables against it.
import type { z } from "zod";
import type { DeliveryReport } from "../outbound/delivery-reports.js";
import type { HttpSenderOptions, SmsSender } from "../outbound/sms-sender.js";
import type { ProviderOpenApi } from "./openapi-doc.js";
import type { InboundRequest, ProviderAdapter } from "./provider.js";

export type ConfigKeySpec = { readonly description: string; readonly schema: z.ZodType };
export type ConfigKeySpecs = Readonly<Record<string, ConfigKeySpec>>;
/** The parsed values of some variables, as src/config.ts hands them over. */
export type ParsedKeys<K extends ConfigKeySpecs> = { [P in keyof K]: z.output<K[P]["schema"]> };

/** What building an inbound adapter may need besides the provider's own settings. */
export type AdapterContext = {
  /** The generic provider's secrets: configured, or generated and kept in DATA_DIR (runtime.ts). */
  genericWebhookSecrets: readonly string[];
  /** Keys the message ids that adapters derive when a provider gives none (smsmode API 2.7). */
  messageIdKey: string;
};

/** What building an SMS sender may need besides the provider's own settings. */
export type SenderContext = {
  genericWebhookSecrets: readonly string[];
  /**
   * Our delivery-report URL for this provider (`/v1/delivery-reports/<name>`), with the first of
   * `pathTokens` for a provider that signs nothing; undefined when such a provider has no token.
   */
  deliveryReportUrl(pathTokens?: readonly string[]): string | undefined;
  now: () => Date;
  options: HttpSenderOptions;
};

export type ProviderDescriptor<N extends string, KI extends ConfigKeySpecs, KO extends ConfigKeySpecs, I extends object, O extends object> = {
  /** The path segment of `/v1/inbound/<name>` and the `--provider` of a number. */
  readonly name: N;
  /** How people call it (the first words of its row in the README's Providers table). */
  readonly displayName: string;
  /** Its guide: set-up, payloads, retries. */
  readonly docs: `docs/providers/${N}.md`;
  /** How a request proves it comes from the provider (one sentence). */
  readonly authentication: string;
  /**
   * Whether it is reached at `/v1/inbound/<name>/<token>`, a secret path token standing in for a
   * signature: `never` (it signs), `only` (it signs nothing), `fallback` (when it does not sign).
   */
  readonly pathToken: "never" | "only" | "fallback";
  /** The variable(s) that give it a secret; any one of them is enough. */
  readonly secretVariables: readonly string[];
  /** Its environment variables: those of inbound webhooks, then those of sending. */
  readonly config: { readonly inbound: KI; readonly outbound: KO };
  /** Its part of `Config.providers` (keys prefixed with its name, unique across providers). */
  inbound(parsed: ParsedKeys<KI>): I;
  /** Its part of `Config.outbound` (one key, its name, by convention). */
  outbound(parsed: ParsedKeys<KO>): O;
  /** Whether it has at least one secret: without one, every delivery is refused. */
  configured(settings: I, context: Pick<AdapterContext, "genericWebhookSecrets">): boolean;
  /**
   * Its inbound adapter. Without a secret it must still refuse every delivery exactly as a forged
   * one: give it a secret nobody knows (`orUnknown`), drawn at start-up and never stored.
   */
  adapter(settings: I, context: AdapterContext): ProviderAdapter;
  /** Its SMS sender; without sending credentials it refuses every message (isConfigured false). */
  sender(settings: { inbound: I; outbound: O }, context: SenderContext): SmsSender;
  /**
   * Reads a delivery report (already verified by its adapter) into our shape; none for an
   * intermediate status; throws WEBHOOK_PAYLOAD_INVALID when unreadable (its delivery-report.ts).
   */
  parseDeliveryReport(request: InboundRequest): DeliveryReport[];
  /** Its webhook's and its delivery reports' proof, headers, bodies and examples (its openapi.ts). */
  readonly openapi: ProviderOpenApi;
  /** What an operator must know at start-up about its configuration, if anything. */
  startupNotice?(settings: I): string | undefined;
};

export type AnyProviderDescriptor = ProviderDescriptor<string, ConfigKeySpecs, ConfigKeySpecs, any, any>;

/** Checks a descriptor's parts against each other and keeps its precise types for the list. */
export function defineProvider<const N extends string, const KI extends ConfigKeySpecs, const KO extends ConfigKeySpecs, I extends object, O extends object>(
  descriptor: ProviderDescriptor<N, KI, KO, I, O>,
): ProviderDescriptor<N, KI, KO, I, O> {
  return descriptor;
}

/** The configured secrets, or one that nobody knows when none is configured (refuses everything). */
export const orUnknown = (secrets: readonly string[], make: () => string): readonly string[] => (secrets.length > 0 ? secrets : [make()]);
