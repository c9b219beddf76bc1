// The SMS providers: one folder each (src/providers/<name>/: adapter.ts, sender.ts,
// delivery-report.ts, openapi.ts, descriptor.ts), registered by one line here. The order is the
// order of the README's Providers table, of the OpenAPI webhooks and of the configuration
// variables. Adding a provider: docs/architecture.md.
import { bird } from "./bird/descriptor.js";
import type { AnyProviderDescriptor } from "./descriptor.js";
import { generic } from "./generic/descriptor.js";
import { infobip } from "./infobip/descriptor.js";
import { messagebird } from "./messagebird/descriptor.js";
import { plivo } from "./plivo/descriptor.js";
import { sinch } from "./sinch/descriptor.js";
import { smsmode } from "./smsmode/descriptor.js";
import { telnyx } from "./telnyx/descriptor.js";
import { twilio } from "./twilio/descriptor.js";
import { vonage } from "./vonage/descriptor.js";

export const PROVIDERS = [generic, twilio, vonage, plivo, telnyx, bird, messagebird, smsmode, sinch, infobip] as const;

type Descriptor = (typeof PROVIDERS)[number];
export type ProviderName = Descriptor["name"];
export const PROVIDER_NAMES: readonly ProviderName[] = PROVIDERS.map((p) => p.name);

/** The list as one type, to call each descriptor's functions with the whole configuration. */
export const PROVIDER_DESCRIPTORS: readonly AnyProviderDescriptor[] = PROVIDERS;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Every provider's inbound variables, then every provider's sending variables (src/config.ts). */
export type ProviderInboundKeys = UnionToIntersection<Descriptor["config"]["inbound"]>;
export type ProviderOutboundKeys = UnionToIntersection<Descriptor["config"]["outbound"]>;
/** `Config.providers`: the providers' inbound settings, side by side. */
export type ProviderSettings = Readonly<UnionToIntersection<ReturnType<Descriptor["inbound"]>>>;
/** The providers' part of `Config.outbound`. */
export type ProviderOutboundSettings = Readonly<UnionToIntersection<ReturnType<Descriptor["outbound"]>>>;

const merged = <T>(parts: readonly object[]): T => Object.assign({}, ...parts) as T;
export const PROVIDER_INBOUND_KEYS = merged<ProviderInboundKeys>(PROVIDERS.map((p) => p.config.inbound));
export const PROVIDER_OUTBOUND_KEYS = merged<ProviderOutboundKeys>(PROVIDERS.map((p) => p.config.outbound));
