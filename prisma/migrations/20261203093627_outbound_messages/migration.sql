-- Outbox of codes sent by SMS or e-mail (src/outbound/, docs/sending.md): one row per message,
-- written in the transaction that creates the code; recipient and text sealed until the message is final.
-- CreateEnum
CREATE TYPE "OutboundChannel" AS ENUM ('sms', 'email');

-- CreateEnum
CREATE TYPE "DeliveryStatus" AS ENUM ('queued', 'sent', 'delivered', 'failed', 'undeliverable');

-- CreateTable
CREATE TABLE "outbound_messages" (
    "id" TEXT NOT NULL,
    "app_id" TEXT NOT NULL,
    "challenge_id" TEXT,
    "channel" "OutboundChannel" NOT NULL,
    "provider" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "recipient_hash" TEXT NOT NULL,
    "recipient_masked" TEXT NOT NULL,
    "country" TEXT,
    "prefix" TEXT,
    "sealed_payload" TEXT,
    "status" "DeliveryStatus" NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) DEFAULT CURRENT_TIMESTAMP,
    "deadline_at" TIMESTAMPTZ(3) NOT NULL,
    "provider_message_id" TEXT,
    "last_error" TEXT,
    "error_code" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "failed_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbound_messages_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "outbound_messages_next_attempt_at_idx" ON "outbound_messages"("next_attempt_at");

-- CreateIndex
CREATE INDEX "outbound_messages_challenge_id_idx" ON "outbound_messages"("challenge_id");

-- CreateIndex
CREATE INDEX "outbound_messages_app_id_created_at_idx" ON "outbound_messages"("app_id", "created_at");

-- CreateIndex
CREATE INDEX "outbound_messages_recipient_hash_created_at_idx" ON "outbound_messages"("recipient_hash", "created_at");

-- CreateIndex
CREATE INDEX "outbound_messages_prefix_created_at_idx" ON "outbound_messages"("prefix", "created_at");

-- CreateIndex
CREATE INDEX "outbound_messages_country_created_at_idx" ON "outbound_messages"("country", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "outbound_messages_provider_provider_message_id_key" ON "outbound_messages"("provider", "provider_message_id");

-- AddForeignKey
ALTER TABLE "outbound_messages" ADD CONSTRAINT "outbound_messages_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "outbound_messages" ADD CONSTRAINT "outbound_messages_challenge_id_fkey" FOREIGN KEY ("challenge_id") REFERENCES "challenges"("id") ON DELETE CASCADE ON UPDATE CASCADE;
