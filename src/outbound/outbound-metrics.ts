// Prometheus metrics of sending (the first source document: "watch delivery delays and failure
// rates"), registered on the runtime's registry. Labels: provider, ISO country (or "none" for
// e-mail and "unknown"), result or cap; never a number, an id or an address.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export type OutboundMetrics = ReturnType<typeof createOutboundMetrics>;

const countryLabel = (country: string | null | undefined) => (country && /^[A-Z]{2}$/.test(country) ? country : "none");

export function createOutboundMetrics(registry: Registry, readQueueDepth: () => Promise<number> = async () => 0) {
  const results = new Counter({
    name: "reverse_otp_outbound_messages_total",
    help: "Outbound codes by provider, country and result (sent, retry, undeliverable, failed, delivered, delivery_failed)",
    labelNames: ["provider", "country", "result"] as const,
    registers: [registry],
  });
  const sendSeconds = new Histogram({
    name: "reverse_otp_outbound_send_seconds",
    help: "From enqueue to the provider's acceptance, by provider and country (outbox wait and retries included)",
    labelNames: ["provider", "country"] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  });
  const deliverySeconds = new Histogram({
    name: "reverse_otp_outbound_delivery_seconds",
    help: "From enqueue to the delivery report saying delivered, by provider and country",
    labelNames: ["provider", "country"] as const,
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  const capsTripped = new Counter({
    name: "reverse_otp_outbound_caps_tripped_total",
    help: "Sends refused by a money or abuse rule, by rule (recipient, prefix, country, app, conversion, number_type, country_not_allowed)",
    labelNames: ["cap"] as const,
    registers: [registry],
  });
  const reports = new Counter({
    name: "reverse_otp_delivery_reports_total",
    help: "Delivery reports by provider and outcome (applied, unmatched, ignored, rejected)",
    labelNames: ["provider", "outcome"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "reverse_otp_outbound_queue_depth",
    help: "Outbound codes queued and not yet accepted by a provider (all instances)",
    registers: [registry],
    async collect() {
      this.set(await readQueueDepth().catch(() => Number.NaN));
    },
  });
  return {
    result: (provider: string, country: string | null | undefined, result: string) => results.inc({ provider, country: countryLabel(country), result }),
    sent: (provider: string, country: string | null | undefined, seconds: number) => sendSeconds.observe({ provider, country: countryLabel(country) }, Math.max(0, seconds)),
    delivered: (provider: string, country: string | null | undefined, seconds: number) =>
      deliverySeconds.observe({ provider, country: countryLabel(country) }, Math.max(0, seconds)),
    capTripped: (cap: string) => capsTripped.inc({ cap }),
    report: (provider: string, outcome: string) => reports.inc({ provider, outcome }),
  };
}
