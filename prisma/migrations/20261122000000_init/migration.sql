-- CreateEnum
CREATE TYPE "ChallengeStatus" AS ENUM ('pending', 'verified', 'expired', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "Purpose" AS ENUM ('signup', 'login', 'password_reset', 'profile_change', 'transaction', 'appointment');

-- CreateEnum
CREATE TYPE "KeyKind" AS ENUM ('secret', 'publishable');

-- CreateEnum
CREATE TYPE "InboundOutcome" AS ENUM ('verified', 'wrong_code', 'expired', 'no_pending_challenge', 'unknown_number', 'invalid_sender', 'duplicate');

-- CreateTable
CREATE TABLE "apps" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "code_length" INTEGER NOT NULL DEFAULT 6,
    "code_alphabet" TEXT NOT NULL DEFAULT 'numeric',
    "code_ttl_seconds" INTEGER NOT NULL DEFAULT 300,
    "max_attempts" INTEGER NOT NULL DEFAULT 5,
    "low_assurance" BOOLEAN NOT NULL DEFAULT false,
    "lockout_seconds" INTEGER NOT NULL DEFAULT 900,
    "allowed_countries" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "default_locale" TEXT NOT NULL DEFAULT 'en',
    "callback_url" TEXT,
    "callback_secret" TEXT,

    CONSTRAINT "apps_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" TEXT NOT NULL,
    "app_id" TEXT NOT NULL,
    "kind" "KeyKind" NOT NULL,
    "key_hash" TEXT NOT NULL,
    "hint" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "virtual_numbers" (
    "id" TEXT NOT NULL,
    "app_id" TEXT NOT NULL,
    "e164" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "virtual_numbers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "challenges" (
    "id" TEXT NOT NULL,
    "app_id" TEXT NOT NULL,
    "virtual_number_id" TEXT NOT NULL,
    "phone_hash" TEXT NOT NULL,
    "phone_masked" TEXT NOT NULL,
    "phone_country" TEXT,
    "code_hash" TEXT NOT NULL,
    "poll_token_hash" TEXT NOT NULL,
    "purpose" "Purpose" NOT NULL,
    "context" JSONB,
    "locale" TEXT NOT NULL,
    "status" "ChallengeStatus" NOT NULL DEFAULT 'pending',
    "max_attempts" INTEGER NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "idempotency_key" TEXT,
    "request_fingerprint" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "verified_at" TIMESTAMPTZ(3),
    "consumed_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "challenges_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inbound_messages" (
    "id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "provider_message_id" TEXT NOT NULL,
    "app_id" TEXT,
    "challenge_id" TEXT,
    "sender_hash" TEXT,
    "sender_masked" TEXT,
    "sender_country" TEXT,
    "recipient" TEXT NOT NULL,
    "text_length" INTEGER NOT NULL,
    "parts" INTEGER NOT NULL DEFAULT 1,
    "line_type" TEXT,
    "carrier" TEXT,
    "outcome" "InboundOutcome" NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbound_messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "phone_failures" (
    "app_id" TEXT NOT NULL,
    "phone_hash" TEXT NOT NULL,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "locked_until" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "phone_failures_pkey" PRIMARY KEY ("app_id","phone_hash")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "api_keys_app_id_idx" ON "api_keys"("app_id");

-- CreateIndex
CREATE UNIQUE INDEX "virtual_numbers_e164_key" ON "virtual_numbers"("e164");

-- CreateIndex
CREATE INDEX "virtual_numbers_app_id_idx" ON "virtual_numbers"("app_id");

-- CreateIndex
CREATE INDEX "challenges_app_id_phone_hash_status_idx" ON "challenges"("app_id", "phone_hash", "status");

-- CreateIndex
CREATE INDEX "challenges_status_expires_at_idx" ON "challenges"("status", "expires_at");

-- CreateIndex
CREATE INDEX "challenges_created_at_idx" ON "challenges"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "challenges_app_id_idempotency_key_key" ON "challenges"("app_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "inbound_messages_created_at_idx" ON "inbound_messages"("created_at");

-- CreateIndex
CREATE INDEX "inbound_messages_app_id_created_at_idx" ON "inbound_messages"("app_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "inbound_messages_provider_provider_message_id_key" ON "inbound_messages"("provider", "provider_message_id");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "virtual_numbers" ADD CONSTRAINT "virtual_numbers_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "challenges" ADD CONSTRAINT "challenges_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "challenges" ADD CONSTRAINT "challenges_virtual_number_id_fkey" FOREIGN KEY ("virtual_number_id") REFERENCES "virtual_numbers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "inbound_messages" ADD CONSTRAINT "inbound_messages_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "inbound_messages" ADD CONSTRAINT "inbound_messages_challenge_id_fkey" FOREIGN KEY ("challenge_id") REFERENCES "challenges"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "phone_failures" ADD CONSTRAINT "phone_failures_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Not expressible in schema.prisma: two pending challenges of one phone never share a code.
-- Inserting a challenge whose code collides fails with a unique violation and a new code is drawn.
CREATE UNIQUE INDEX "challenges_pending_phone_code_key" ON "challenges"("phone_hash", "code_hash") WHERE "status" = 'pending';
