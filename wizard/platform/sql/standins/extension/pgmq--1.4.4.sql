-- consolidation-wizard stand-in: not the real extension.
-- pgmq's schema surface for scratch databases: pgmq.meta, one q_<name> and a_<name> table per
-- queue, and the functions migrations call to create and drop queues and to send messages.
-- Written for the wizard; messages are stored, never delivered.

\echo Use "CREATE EXTENSION pgmq" to load this file. \quit

CREATE TABLE pgmq.meta (
    queue_name varchar UNIQUE NOT NULL,
    is_partitioned boolean NOT NULL,
    is_unlogged boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION pgmq._create(queue_name text, unlogged boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    kind text := CASE WHEN unlogged THEN 'UNLOGGED TABLE' ELSE 'TABLE' END;
BEGIN
    IF queue_name !~ '^[a-z0-9_]+$' OR length(queue_name) > 47 THEN
        RAISE EXCEPTION 'queue name is invalid: %', queue_name;
    END IF;
    EXECUTE format('CREATE %s IF NOT EXISTS pgmq.%I (msg_id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY, '
        'read_ct integer DEFAULT 0 NOT NULL, enqueued_at timestamptz DEFAULT now() NOT NULL, '
        'vt timestamptz NOT NULL, message jsonb)', kind, 'q_' || queue_name);
    EXECUTE format('CREATE TABLE IF NOT EXISTS pgmq.%I (msg_id bigint PRIMARY KEY, read_ct integer DEFAULT 0 NOT NULL, '
        'enqueued_at timestamptz DEFAULT now() NOT NULL, archived_at timestamptz DEFAULT now() NOT NULL, '
        'vt timestamptz NOT NULL, message jsonb)', 'a_' || queue_name);
    IF EXISTS (SELECT FROM pg_extension WHERE extname = 'pgmq') THEN
        IF NOT EXISTS (SELECT FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
                         AND objid = format('pgmq.%I', 'q_' || queue_name)::regclass) THEN
            EXECUTE format('ALTER EXTENSION pgmq ADD TABLE pgmq.%I', 'q_' || queue_name);
            EXECUTE format('ALTER EXTENSION pgmq ADD TABLE pgmq.%I', 'a_' || queue_name);
        END IF;
    END IF;
    INSERT INTO pgmq.meta (queue_name, is_partitioned, is_unlogged) VALUES (_create.queue_name, false, unlogged)
    ON CONFLICT ON CONSTRAINT meta_queue_name_key DO NOTHING;
END $$;

CREATE FUNCTION pgmq.create(queue_name text) RETURNS void LANGUAGE sql
    AS $$ SELECT pgmq._create(queue_name, false) $$;

CREATE FUNCTION pgmq.create_unlogged(queue_name text) RETURNS void LANGUAGE sql
    AS $$ SELECT pgmq._create(queue_name, true) $$;

CREATE FUNCTION pgmq.drop_queue(queue_name text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pgmq.meta m WHERE m.queue_name = drop_queue.queue_name) THEN
        RETURN false;
    END IF;
    EXECUTE format('ALTER EXTENSION pgmq DROP TABLE pgmq.%I', 'q_' || queue_name);
    EXECUTE format('ALTER EXTENSION pgmq DROP TABLE pgmq.%I', 'a_' || queue_name);
    EXECUTE format('DROP TABLE IF EXISTS pgmq.%I, pgmq.%I', 'q_' || queue_name, 'a_' || queue_name);
    DELETE FROM pgmq.meta m WHERE m.queue_name = drop_queue.queue_name;
    RETURN true;
END $$;

CREATE FUNCTION pgmq.send(queue_name text, msg jsonb, delay integer DEFAULT 0) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format('INSERT INTO pgmq.%I (vt, message) VALUES (now() + make_interval(secs => $1), $2) '
        'RETURNING msg_id', 'q_' || queue_name) USING delay, msg;
END $$;

SELECT pg_catalog.pg_extension_config_dump('pgmq.meta', '');
