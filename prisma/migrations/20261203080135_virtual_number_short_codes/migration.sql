-- AlterTable
ALTER TABLE "virtual_numbers" ADD COLUMN     "channel_id" TEXT,
ADD COLUMN     "country" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "virtual_numbers_provider_channel_id_key" ON "virtual_numbers"("provider", "channel_id");

-- A virtual number is a long number in E.164 without a country, or a short code (3 to 8 digits)
-- with its ISO 3166 alpha-2 country: the two kinds of key never look alike (src/apps/virtual-number.ts).
ALTER TABLE "virtual_numbers" ADD CONSTRAINT "virtual_numbers_kind_check" CHECK (
  ("e164" ~ '^\+[1-9][0-9]{1,14}$' AND "country" IS NULL)
  OR ("e164" ~ '^[0-9]{3,8}$' AND "country" ~ '^[A-Z]{2}$')
);
