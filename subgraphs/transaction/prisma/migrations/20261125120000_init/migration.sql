-- Kit tables (@magasin/subgraph-kit PROJECTION_TABLES_SQL): bus inbox and projection checkpoint.
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

-- CreateTable
CREATE TABLE "order_lines" (
    "order_id" TEXT NOT NULL,
    "line_no" INTEGER NOT NULL,
    "product_id" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "unit_price_cents" INTEGER NOT NULL,

    CONSTRAINT "order_lines_pkey" PRIMARY KEY ("order_id","line_no")
);

-- CreateTable
CREATE TABLE "ledger_entries" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL CHECK ("kind" IN ('SALE', 'REFUND')),
    "order_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "return_id" TEXT,
    "amount_cents" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_entry_lines" (
    "entry_id" TEXT NOT NULL,
    "line_no" INTEGER NOT NULL,
    "kind" TEXT NOT NULL CHECK ("kind" IN ('SALE', 'REFUND')),
    "product_id" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "revenue_cents" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ledger_entry_lines_pkey" PRIMARY KEY ("entry_id","line_no")
);

-- CreateIndex
CREATE INDEX "ledger_entries_at_idx" ON "ledger_entries"("at");

-- CreateIndex
CREATE INDEX "ledger_entries_order_id_idx" ON "ledger_entries"("order_id");

-- CreateIndex
CREATE INDEX "ledger_entry_lines_at_product_id_idx" ON "ledger_entry_lines"("at", "product_id");

-- AddForeignKey
ALTER TABLE "ledger_entry_lines" ADD CONSTRAINT "ledger_entry_lines_entry_id_fkey" FOREIGN KEY ("entry_id") REFERENCES "ledger_entries"("id") ON DELETE CASCADE ON UPDATE CASCADE;
