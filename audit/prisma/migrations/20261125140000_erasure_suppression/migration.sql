-- The suppression list: an erased person's identifier, as a keyed hash (HMAC-SHA256 under
-- AUDIT_ERASURE_SECRET), so that records about them arriving after the erasure (the erasure
-- request itself, events in flight) get the erased pseudonym instead of a new one.
ALTER TABLE "audit_erasures" ADD COLUMN "tombstone" TEXT NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "audit_erasures_tombstone_key" ON "audit_erasures"("tombstone");
