-- append_events: a whole group-committed batch in one statement, so the writer needs one
-- round trip per batch (its implicit transaction commits when the statement ends). It takes
-- the position lock first, so batches of every replica assign positions one transaction at a
-- time, each reading the head only after the previous one committed and became visible:
-- positions become visible in commit order, gap-free. Appends are applied in order; each one
-- is, in order: a duplicate of stored events (same ids, same payload: answered with them,
-- nothing written), an idempotency conflict (an id stored with another payload), a version
-- conflict (the stream is not at the expected version), or appended.
-- One row per append, in order: outcome 'appended' (last_version and last_position of its
-- last event; occurred_at: recorded_at as ISO-8601, the occurredAt of events given none), 'conflict'
-- (last_version: where the stream is), 'duplicate' or 'idempotency_conflict' (stored: the
-- stored events with these ids, in request order).
CREATE FUNCTION "append_events"(
    "lock_key" BIGINT,
    "commit_channel" TEXT,
    -- Distinct streams of the batch.
    "stream_ids" TEXT[],
    -- Per append: index in stream_ids (from 1), expected version (-1: any; 0: no stream),
    -- number of events.
    "append_streams" INTEGER[],
    "append_expected" BIGINT[],
    "append_sizes" INTEGER[],
    -- Per event, appends one after another; metadata without occurredAt gets recorded_at.
    "event_ids" UUID[],
    "event_types" TEXT[],
    "event_data" JSONB[],
    "event_metadata" JSONB[],
    "event_correlations" TEXT[],
    -- Some event id appears in two appends of the batch (the caller knows).
    "ids_repeat" BOOLEAN
) RETURNS TABLE (
    "append_index" INTEGER,
    "outcome" TEXT,
    "last_version" INTEGER,
    "last_position" BIGINT,
    "occurred_at" TEXT,
    "stored" JSON
)
LANGUAGE plpgsql
-- Every lookup here is by a unique key. PL/pgSQL keeps the plans it made on its first calls,
-- when the log may have been nearly empty and a sequential scan the cheapest: that plan would
-- then read the whole log on every append as it grows. Index scans are always right here.
SET enable_seqscan = off
AS $$
DECLARE
    batch_time TIMESTAMPTZ;
    batch_time_text TEXT;
    head BIGINT;
    first_head BIGINT;
    versions INTEGER[];
    initial_versions INTEGER[];
    check_ids BOOLEAN;
    event_from INTEGER := 1;
    event_to INTEGER;
    stream INTEGER;
    found_count INTEGER;
    same_payload BOOLEAN;
    found JSON;
    -- Appends accepted and not yet inserted.
    ok_event_from INTEGER[] := '{}';
    ok_size INTEGER[] := '{}';
    ok_stream INTEGER[] := '{}';
    ok_version_from INTEGER[] := '{}';
    ok_position_from BIGINT[] := '{}';
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    -- Milliseconds, as recorded_at keeps them and as occurredAt is written.
    batch_time := date_trunc('milliseconds', clock_timestamp());
    batch_time_text := to_char(batch_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
    SELECT coalesce(max(e."position"), 0) INTO head FROM "events" e;
    first_head := head;
    versions := ARRAY(
        SELECT coalesce(s."version", 0)
          FROM unnest(stream_ids) WITH ORDINALITY AS u(id, n)
          LEFT JOIN "streams" s ON s."stream_id" = u.id
         ORDER BY u.n);
    initial_versions := versions;
    -- Usually no id is known: then nothing is looked up per append and all is inserted at once.
    -- Otherwise each append is inserted as soon as it is accepted, so later ones see it.
    check_ids := ids_repeat OR EXISTS (SELECT 1 FROM "events" e WHERE e."event_id" = ANY(event_ids));

    FOR i IN 1 .. coalesce(array_length(append_streams, 1), 0) LOOP
        event_to := event_from + append_sizes[i] - 1;
        append_index := i;
        last_version := NULL;
        last_position := NULL;
        occurred_at := NULL;
        stored := NULL;
        found_count := 0;
        IF check_ids THEN
            SELECT count(e."event_id"),
                   bool_and(e."stream_id" = stream_ids[append_streams[i]]
                            AND e."type" = n.type
                            AND e."data" = n.data
                            AND (e."metadata" - 'traceparent' - 'occurredAt') = (n.metadata - 'traceparent' - 'occurredAt'))
                     FILTER (WHERE e."event_id" IS NOT NULL),
                   json_agg(json_build_object(
                       'position', e."position", 'stream_id', e."stream_id", 'version', e."version",
                       'event_id', e."event_id", 'type', e."type", 'data', e."data", 'metadata', e."metadata")
                     ORDER BY n.ord) FILTER (WHERE e."event_id" IS NOT NULL)
              INTO found_count, same_payload, found
              FROM unnest(event_ids[event_from:event_to], event_types[event_from:event_to],
                          event_data[event_from:event_to], event_metadata[event_from:event_to])
                   WITH ORDINALITY AS n(id, type, data, metadata, ord)
              LEFT JOIN "events" e ON e."event_id" = n.id;
        END IF;
        stream := append_streams[i];
        IF found_count > 0 THEN
            outcome := CASE WHEN found_count = append_sizes[i] AND same_payload
                            THEN 'duplicate' ELSE 'idempotency_conflict' END;
            stored := found;
        ELSIF append_expected[i] >= 0 AND append_expected[i] <> versions[stream] THEN
            outcome := 'conflict';
            last_version := versions[stream];
        ELSE
            ok_event_from := ok_event_from || event_from;
            ok_size := ok_size || append_sizes[i];
            ok_stream := ok_stream || stream;
            ok_version_from := ok_version_from || (versions[stream] + 1);
            ok_position_from := ok_position_from || (head + 1);
            versions[stream] := versions[stream] + append_sizes[i];
            head := head + append_sizes[i];
            outcome := 'appended';
            last_version := versions[stream];
            last_position := head;
            occurred_at := batch_time_text;
        END IF;
        IF check_ids OR i = array_length(append_streams, 1) THEN
            INSERT INTO "events" ("position", "stream_id", "version", "event_id", "type", "data",
                                  "metadata", "correlation_id", "recorded_at")
            SELECT a.position_from + g.k, stream_ids[a.stream], a.version_from + g.k,
                   event_ids[a.event_from + g.k], event_types[a.event_from + g.k],
                   event_data[a.event_from + g.k],
                   CASE WHEN event_metadata[a.event_from + g.k] ? 'occurredAt'
                        THEN event_metadata[a.event_from + g.k]
                        ELSE event_metadata[a.event_from + g.k] || jsonb_build_object('occurredAt', batch_time_text) END,
                   event_correlations[a.event_from + g.k], batch_time
              FROM unnest(ok_event_from, ok_size, ok_stream, ok_version_from, ok_position_from)
                   AS a(event_from, size, stream, version_from, position_from)
             CROSS JOIN LATERAL generate_series(0, a.size - 1) AS g(k);
            ok_event_from := '{}';
            ok_size := '{}';
            ok_stream := '{}';
            ok_version_from := '{}';
            ok_position_from := '{}';
        END IF;
        RETURN NEXT;
        event_from := event_to + 1;
    END LOOP;

    IF head > first_head THEN
        INSERT INTO "streams" ("stream_id", "version", "updated_at")
        SELECT stream_ids[k], versions[k], batch_time
          FROM generate_subscripts(versions, 1) AS k
         WHERE versions[k] <> initial_versions[k]
        ON CONFLICT ("stream_id") DO UPDATE SET "version" = EXCLUDED."version", "updated_at" = EXCLUDED."updated_at";
        PERFORM pg_notify(commit_channel, head::TEXT);
    END IF;
END;
$$;
