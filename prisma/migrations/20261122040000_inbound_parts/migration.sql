-- CreateTable
CREATE TABLE "inbound_parts" (
    "id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "group_key" TEXT NOT NULL,
    "part" INTEGER NOT NULL,
    "total" INTEGER NOT NULL,
    "provider_message_id" TEXT NOT NULL,
    "sealed_text" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbound_parts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "inbound_parts_created_at_idx" ON "inbound_parts"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "inbound_parts_provider_group_key_part_key" ON "inbound_parts"("provider", "group_key", "part");
