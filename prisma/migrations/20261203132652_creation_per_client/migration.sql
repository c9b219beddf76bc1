-- AlterTable
ALTER TABLE "challenges" ADD COLUMN     "client_hash" TEXT;

-- CreateIndex
CREATE INDEX "challenges_app_id_phone_hash_client_hash_created_at_idx" ON "challenges"("app_id", "phone_hash", "client_hash", "created_at");
