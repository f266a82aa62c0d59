-- consolidation-wizard stand-in: not the real extension.
-- pg_net's schema "net" for scratch databases: the request queue and response tables and the
-- functions migrations call (often from triggers). Requests are queued exactly as pg_net queues
-- them, but no background worker ever sends them: a scratch database must not call webhooks.

\echo Use "CREATE EXTENSION pg_net" to load this file. \quit

CREATE SCHEMA net;

CREATE DOMAIN net.http_method AS text CHECK (VALUE IN ('GET', 'POST', 'DELETE'));
CREATE TYPE net.request_status AS ENUM ('PENDING', 'SUCCESS', 'ERROR');
CREATE TYPE net.http_response AS (status_code integer, headers jsonb, body text);
CREATE TYPE net.http_response_result AS (status net.request_status, message text, response net.http_response);

CREATE UNLOGGED TABLE net.http_request_queue (
    id bigserial NOT NULL,
    method net.http_method NOT NULL,
    url text NOT NULL,
    headers jsonb NOT NULL,
    body bytea,
    timeout_milliseconds integer NOT NULL
);
CREATE UNLOGGED TABLE net._http_response (
    id bigint,
    status_code integer,
    content_type text,
    headers jsonb,
    content text,
    timed_out boolean,
    error_msg text,
    created timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX _http_response_created_idx ON net._http_response (created);

CREATE FUNCTION net.http_get(
    url text,
    params jsonb DEFAULT '{}'::jsonb,
    headers jsonb DEFAULT '{}'::jsonb,
    timeout_milliseconds integer DEFAULT 5000
) RETURNS bigint
    LANGUAGE sql VOLATILE
BEGIN ATOMIC
    INSERT INTO net.http_request_queue (method, url, headers, timeout_milliseconds)
    VALUES ('GET', url, coalesce(headers, '{}'::jsonb), timeout_milliseconds)
    RETURNING id;
END;

CREATE FUNCTION net.http_post(
    url text,
    body jsonb DEFAULT '{}'::jsonb,
    params jsonb DEFAULT '{}'::jsonb,
    headers jsonb DEFAULT '{"Content-Type": "application/json"}'::jsonb,
    timeout_milliseconds integer DEFAULT 5000
) RETURNS bigint
    LANGUAGE sql VOLATILE
BEGIN ATOMIC
    INSERT INTO net.http_request_queue (method, url, headers, body, timeout_milliseconds)
    VALUES ('POST', url, coalesce(headers, '{}'::jsonb), convert_to(body::text, 'UTF8'), timeout_milliseconds)
    RETURNING id;
END;

CREATE FUNCTION net.http_delete(
    url text,
    params jsonb DEFAULT '{}'::jsonb,
    headers jsonb DEFAULT '{}'::jsonb,
    timeout_milliseconds integer DEFAULT 5000
) RETURNS bigint
    LANGUAGE sql VOLATILE
BEGIN ATOMIC
    INSERT INTO net.http_request_queue (method, url, headers, timeout_milliseconds)
    VALUES ('DELETE', url, coalesce(headers, '{}'::jsonb), timeout_milliseconds)
    RETURNING id;
END;

CREATE FUNCTION net.http_collect_response(request_id bigint, async boolean DEFAULT true)
RETURNS net.http_response_result
    LANGUAGE sql VOLATILE
    RETURN ROW('PENDING', 'consolidation-wizard stand-in: requests are never sent', NULL)::net.http_response_result;

-- Supabase grants the API roles access to net (its issue_pg_net_access event trigger).
DO $standin$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT USAGE ON SCHEMA net TO postgres, anon, authenticated, service_role;
    END IF;
END
$standin$;
