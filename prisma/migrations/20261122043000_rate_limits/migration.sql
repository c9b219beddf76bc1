-- AlterTable
ALTER TABLE "apps" ADD COLUMN     "rate_limit_phone_per_hour" INTEGER,
ADD COLUMN     "rate_limit_publishable_key_per_minute" INTEGER,
ADD COLUMN     "rate_limit_secret_key_per_minute" INTEGER;

-- CreateTable
CREATE TABLE "rate_limits" (
    "key" TEXT NOT NULL,
    "points" INTEGER NOT NULL,
    "expire" TIMESTAMPTZ(3),

    CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "rate_limits_expire_idx" ON "rate_limits"("expire");
