-- CreateTable
CREATE TABLE "products" (
    "id" TEXT NOT NULL,
    "sku" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "price_cents" INTEGER NOT NULL,
    "available" INTEGER NOT NULL,
    "reserved" INTEGER NOT NULL,
    "sold" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "products_pkey" PRIMARY KEY ("id"),
    -- The decider never lets a level go negative; a projection bug stops here instead of lying.
    CONSTRAINT "products_levels_not_negative" CHECK ("available" >= 0 AND "reserved" >= 0 AND "sold" >= 0),
    CONSTRAINT "products_price_not_negative" CHECK ("price_cents" >= 0)
);

-- CreateIndex
CREATE UNIQUE INDEX "products_sku_key" ON "products"("sku");

-- Kit tables (PROJECTION_TABLES_SQL of @magasin/subgraph-kit)
CREATE TABLE IF NOT EXISTS "inbox" (
  "consumer"     TEXT        NOT NULL,
  "message_id"   TEXT        NOT NULL,
  "processed_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY ("consumer", "message_id")
);
CREATE TABLE IF NOT EXISTS "projection_checkpoints" (
  "name"       TEXT        NOT NULL PRIMARY KEY,
  "position"   BIGINT      NOT NULL DEFAULT 0,
  "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);
