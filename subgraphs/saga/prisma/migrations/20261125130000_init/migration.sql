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
CREATE TABLE "sagas" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL CHECK ("kind" IN ('ORDER', 'RETURN')),
    "order_id" TEXT NOT NULL,
    "status" TEXT NOT NULL CHECK ("status" IN ('RUNNING', 'COMPENSATING', 'COMPLETED', 'CANCELLED', 'TIMED_OUT')),
    "version" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sagas_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "saga_steps" (
    "saga_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "detail" TEXT,
    "saga_status" TEXT NOT NULL,

    CONSTRAINT "saga_steps_pkey" PRIMARY KEY ("saga_id","seq")
);

-- CreateTable
CREATE TABLE "saga_deadlines" (
    "saga_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "step" TEXT NOT NULL,
    "due_at" TIMESTAMPTZ(3) NOT NULL,
    "version" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL,

    CONSTRAINT "saga_deadlines_pkey" PRIMARY KEY ("saga_id")
);

-- CreateTable
CREATE TABLE "saga_orders" (
    "order_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,

    CONSTRAINT "saga_orders_pkey" PRIMARY KEY ("order_id")
);

-- CreateIndex
CREATE INDEX "sagas_order_id_idx" ON "sagas"("order_id");

-- CreateIndex
CREATE INDEX "saga_deadlines_due_at_idx" ON "saga_deadlines"("due_at");

-- AddForeignKey
ALTER TABLE "saga_steps" ADD CONSTRAINT "saga_steps_saga_id_fkey" FOREIGN KEY ("saga_id") REFERENCES "sagas"("id") ON DELETE CASCADE ON UPDATE CASCADE;
