// The interface every SMS provider adapter implements. An adapter verifies the request's origin on
// the raw bytes and the configured public URL first, then parses it into inbound messages, and
// finally says how to answer in the provider's own convention.

/** Everything an adapter may look at, captured before any parsing. */
export type InboundRequest = {
  method: "GET" | "POST";
  /** The public URL the provider called: PUBLIC_BASE_URL + path + query, never built from `Host`. */
  publicUrl: string;
  /** Lower-cased header names. */
  headers: Readonly<Record<string, string | undefined>>;
  rawBody: Buffer;
  /** The secret path segment of unsigned providers (`/v1/inbound/<provider>/<token>`). */
  pathToken?: string;
  receivedAt: Date;
};

/** One inbound SMS in the common shape. Numbers as the provider sent them; the core normalises. */
export type ProviderMessage = {
  providerMessageId: string;
  from: string;
  to: string;
  text: string;
  receivedAt?: Date;
  parts?: number;
  /** One part of a message the provider delivers in parts (Vonage `concat-*`); the core joins them. */
  concat?: { reference: string; part: number; total: number };
  lineType?: string;
  carrier?: string;
  /**
   * The provider's ids of the channel that received the message, when its payload may name our
   * number only by them (Bird): a number can be mapped to one (`apps add-number --channel`).
   */
  channelIds?: string[];
  /**
   * Set when the provider's documentation does not settle which of `from` and `to` is ours
   * (smsmode REST): the core then takes as recipient whichever of the two is one of our numbers,
   * `to` first.
   */
  directionUncertain?: boolean;
};

export type VerifyFailure = {
  ok: false;
  code: "WEBHOOK_SIGNATURE_MISSING" | "WEBHOOK_SIGNATURE_INVALID" | "WEBHOOK_TIMESTAMP_OUT_OF_RANGE" | "WEBHOOK_NOT_CONFIGURED";
  reason: string;
};

export type VerifyResult = { ok: true } | VerifyFailure;

export type ProviderAnswer = { status: number; contentType?: string; body?: string };

export type InboundOutcome =
  | "verified"
  | "wrong_code"
  | "expired"
  | "no_pending_challenge"
  | "unknown_number"
  | "invalid_sender"
  | "duplicate";

/** `part_stored`: one part of a multi-part SMS, kept until the others arrive (not an outcome of a message). */
export type MessageResult = { providerMessageId: string; outcome: InboundOutcome | "part_stored" };

export type ProviderAdapter = {
  readonly name: string;
  readonly methods: readonly ("GET" | "POST")[];
  /** Unsigned providers authenticate by a secret path token instead of a signature. */
  readonly usesPathToken: boolean;
  /** May be async (JWT libraries verify asynchronously). */
  verify(request: InboundRequest): VerifyResult | Promise<VerifyResult>;
  /** Throws AppError("WEBHOOK_PAYLOAD_INVALID") on a payload it cannot read. */
  parse(request: InboundRequest): ProviderMessage[];
  /** The answer once every message is stored (duplicates and non-matches included). */
  acknowledge(results: MessageResult[]): ProviderAnswer;
};

/** An adapter whose verification is synchronous (most: HMAC and token checks). */
export type SyncProviderAdapter = Omit<ProviderAdapter, "verify"> & { verify(request: InboundRequest): VerifyResult };
