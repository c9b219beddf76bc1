// The demo's outbox: in demo mode, the SMS the Demo app sends (its code after "Can't send an
// SMS?") are kept in this process instead of leaving the machine, so the page can show them and
// the classic flow can be tried without a provider. Only the demo number's messages are captured,
// and only while the generic provider cannot send (no GENERIC_OUTBOUND_URL): with a gateway
// configured, they go out like any other app's. Everything else goes to the real senders.
import type { SenderRegistry } from "../outbound/sender-registry.js";
import type { SendResult, SmsSender } from "../outbound/sms-sender.js";
import type { ProviderName } from "../providers/registry.js";

export type CapturedSms = { messageId: string; from: string; to: string; text: string; capturedAt: Date };

/** Kept at most this many, and this long: enough for a demo, bounded for a public page. */
const MAX_MESSAGES = 500;
const KEEP_MS = 60 * 60 * 1000;

export function createDemoOutbox(demoNumber: string, now: () => Date = () => new Date()) {
  // A Map iterates in insertion order: the first entries are the oldest.
  const messages = new Map<string, CapturedSms>();
  let capturing = false;

  const prune = () => {
    const cutoff = now().getTime() - KEEP_MS;
    for (const [id, m] of messages) {
      if (messages.size <= MAX_MESSAGES && m.capturedAt.getTime() >= cutoff) break;
      messages.delete(id);
    }
  };

  return {
    /**
     * The senders with the demo number's provider wrapped: while that provider cannot send, a
     * message from the demo number is captured here and answered as accepted.
     */
    wrap(senders: SenderRegistry, provider: ProviderName = "generic"): SenderRegistry {
      const real = senders.get(provider);
      if (!real || real.isConfigured) return senders;
      capturing = true;
      const capturer: SmsSender = {
        provider: real.provider,
        isConfigured: false,
        async send(sms): Promise<SendResult> {
          if (sms.from !== demoNumber) return real.send(sms);
          messages.set(sms.messageId, { ...sms, capturedAt: now() });
          prune();
          return { kind: "accepted", providerMessageId: `demo_${sms.messageId}`, status: 200 };
        },
      };
      return new Map([...senders, [provider, capturer]]);
    },

    /** Whether the demo number's SMS are captured here (false: a gateway sends them, or nothing was wrapped). */
    get capturing(): boolean {
      return capturing;
    },

    /** The captured message with this outbox id, or undefined (not captured, not yet sent, or pruned). */
    find(messageId: string): CapturedSms | undefined {
      return messages.get(messageId);
    },
  };
}

export type DemoOutbox = ReturnType<typeof createDemoOutbox>;
