// Prisma CLI configuration. Prisma 7 does not load `.env` itself, and `env()` would make
// `prisma generate` fail when DATABASE_URL is unset, so the URL is read leniently here.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
