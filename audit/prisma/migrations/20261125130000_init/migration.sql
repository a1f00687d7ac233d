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
CREATE TABLE "audit_records" (
    "sequence" BIGINT NOT NULL,
    "id" TEXT NOT NULL,
    "source_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL CHECK ("kind" IN ('EVENT', 'MUTATION')),
    "type" TEXT NOT NULL,
    "correlation_id" TEXT NOT NULL,
    "causation_id" TEXT,
    "actor" TEXT NOT NULL,
    "subject_ids" TEXT[],
    "stream_id" TEXT,
    "stream_version" INTEGER,
    "position" BIGINT,
    "outcome" TEXT CHECK ("outcome" IN ('ACCEPTED', 'REFUSED')),
    "error_codes" TEXT[],
    "tags" TEXT[],
    "data" JSONB NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL,
    "previous_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_records_pkey" PRIMARY KEY ("sequence")
);

-- CreateTable
CREATE TABLE "audit_subjects" (
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_subjects_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "audit_erasures" (
    "key" TEXT NOT NULL,
    "erased_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "audit_erasures_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "audit_records_id_key" ON "audit_records"("id");

-- CreateIndex
CREATE UNIQUE INDEX "audit_records_source_id_key" ON "audit_records"("source_id");

-- CreateIndex
CREATE INDEX "audit_records_correlation_id_idx" ON "audit_records"("correlation_id");

-- CreateIndex
CREATE INDEX "audit_records_subject_ids_idx" ON "audit_records" USING GIN ("subject_ids");

-- CreateIndex
CREATE INDEX "audit_records_occurred_at_idx" ON "audit_records"("occurred_at");

-- CreateIndex
CREATE UNIQUE INDEX "audit_subjects_value_key" ON "audit_subjects"("value");
