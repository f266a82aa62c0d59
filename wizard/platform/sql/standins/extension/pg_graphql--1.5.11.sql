-- consolidation-wizard stand-in: not the real extension.
-- pg_graphql's functions for scratch databases: migrations grant on them, call
-- graphql.comment_directive() and write @graphql(...) comments; graphql.resolve() answers every
-- query with a GraphQL error, since a scratch database serves no API.

\echo Use "CREATE EXTENSION pg_graphql" to load this file. \quit

CREATE FUNCTION @extschema@.resolve(
    query text,
    variables jsonb DEFAULT '{}'::jsonb,
    "operationName" text DEFAULT NULL,
    extensions jsonb DEFAULT NULL
) RETURNS jsonb
    LANGUAGE sql VOLATILE
    RETURN jsonb_build_object('data', NULL, 'errors', jsonb_build_array(jsonb_build_object(
        'message', 'consolidation-wizard stand-in: pg_graphql does not resolve queries in a scratch database')));

-- The JSON of a @graphql({...}) directive in a comment, as pg_graphql reads it.
CREATE FUNCTION @extschema@.comment_directive(comment_ text) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    RETURN CASE WHEN comment_ ~ '^\s*@graphql\(.*\)\s*$'
                THEN substring(comment_ FROM '@graphql\((.*)\)')::jsonb END;

CREATE FUNCTION @extschema@.exception(message text) RETURNS text
    LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION USING errcode = '22000', message = message; END $$;

CREATE FUNCTION @extschema@.get_schema_version() RETURNS integer
    LANGUAGE sql STABLE RETURN 0;

DO $standin$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT USAGE ON SCHEMA @extschema@ TO postgres, anon, authenticated, service_role;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA @extschema@ TO postgres, anon, authenticated, service_role;
    END IF;
END
$standin$;
