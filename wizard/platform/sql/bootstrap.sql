-- Supabase bootstrap for scratch ("shadow") databases: what a new Supabase project holds before
-- its first migration, as far as migrations can see it, applied identically to every scratch
-- database. It is NOT a Supabase database; docs/bootstrap.md lists every object, why it is
-- here and how it differs from a real project. Run as a superuser (the shadow role).
-- Stand-in extensions: wizard/sql/standins (revision 1).

-- Roles are cluster-wide: create them only once per server. Supabase's service roles own the
-- managed schemas there; here they only need to exist, for GRANT and ALTER ... OWNER TO.
DO $bootstrap$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM (VALUES
        ('postgres', 'NOLOGIN'),
        ('anon', 'NOLOGIN NOINHERIT'),
        ('authenticated', 'NOLOGIN NOINHERIT'),
        ('service_role', 'NOLOGIN NOINHERIT BYPASSRLS'),
        ('authenticator', 'NOLOGIN NOINHERIT'),
        ('supabase_admin', 'NOLOGIN'),
        ('supabase_auth_admin', 'NOLOGIN NOINHERIT'),
        ('supabase_storage_admin', 'NOLOGIN NOINHERIT'),
        ('supabase_realtime_admin', 'NOLOGIN NOINHERIT'),
        ('supabase_functions_admin', 'NOLOGIN NOINHERIT'),
        ('supabase_replication_admin', 'NOLOGIN'),
        ('supabase_read_only_user', 'NOLOGIN BYPASSRLS'),
        ('dashboard_user', 'NOLOGIN'),
        ('pgbouncer', 'NOLOGIN')
    ) AS v(name, options)
    LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r.name) THEN
            EXECUTE format('CREATE ROLE %I %s', r.name, r.options);
        END IF;
    END LOOP;
    IF NOT pg_has_role('authenticator', 'anon', 'MEMBER') THEN
        GRANT anon, authenticated, service_role TO authenticator;
    END IF;
    -- Supabase sets this search_path on the role migrations run as (postgres), so that
    -- uuid_generate_v4(), crypt() and vector resolve from the extensions schema unqualified.
    ALTER ROLE postgres SET search_path TO "$user", public, extensions;
    IF current_user <> 'postgres' THEN
        EXECUTE format('ALTER ROLE %I SET search_path TO "$user", public, extensions', current_user);
    END IF;
END
$bootstrap$;

CREATE SCHEMA IF NOT EXISTS extensions;
CREATE SCHEMA IF NOT EXISTS auth;
CREATE SCHEMA IF NOT EXISTS storage;
CREATE SCHEMA IF NOT EXISTS realtime;
CREATE SCHEMA IF NOT EXISTS graphql;
CREATE SCHEMA IF NOT EXISTS graphql_public;
CREATE SCHEMA IF NOT EXISTS vault;
CREATE SCHEMA IF NOT EXISTS supabase_functions;

-- Extensions a new project has before its first migration. Where the server has neither the
-- extension nor its stand-in (wizard/standins.py), it is skipped here and `drift` warns.
DO $bootstrap$
DECLARE
    e record;
BEGIN
    FOR e IN SELECT * FROM (VALUES
        ('uuid-ossp', 'extensions'),
        ('pgcrypto', 'extensions'),
        ('pg_stat_statements', 'extensions'),
        ('pg_graphql', 'graphql'),
        ('supabase_vault', 'vault')
    ) AS v(name, schema)
    LOOP
        IF EXISTS (SELECT FROM pg_available_extensions WHERE name = e.name) THEN
            EXECUTE format('CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA %I', e.name, e.schema);
        ELSE
            RAISE WARNING 'Supabase bootstrap: the server has no extension % (nor its stand-in)', e.name;
        END IF;
    END LOOP;
END
$bootstrap$;

-- public: Supabase's grants and default privileges, so every table, sequence and function a
-- migration creates is granted to the API roles exactly as on a real project.
GRANT USAGE ON SCHEMA public TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
    GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
    GRANT ALL ON SEQUENCES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
    GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
    GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
    GRANT ALL ON SEQUENCES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
    GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;
GRANT USAGE ON SCHEMA extensions TO postgres, anon, authenticated, service_role;
GRANT ALL ON SCHEMA extensions TO dashboard_user;

-- auth: GoTrue's tables (users with every column GoTrue adds, identities, sessions, refresh
-- tokens) and the JWT helpers policies call.
CREATE TABLE IF NOT EXISTS auth.users (
    instance_id uuid,
    id uuid PRIMARY KEY,
    aud varchar(255),
    role varchar(255),
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    invited_at timestamptz,
    confirmation_token varchar(255),
    confirmation_sent_at timestamptz,
    recovery_token varchar(255),
    recovery_sent_at timestamptz,
    email_change_token_new varchar(255),
    email_change varchar(255),
    email_change_sent_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz,
    updated_at timestamptz,
    phone text UNIQUE DEFAULT NULL,
    phone_confirmed_at timestamptz,
    phone_change text DEFAULT '',
    phone_change_token varchar(255) DEFAULT '',
    phone_change_sent_at timestamptz,
    confirmed_at timestamptz GENERATED ALWAYS AS (LEAST(email_confirmed_at, phone_confirmed_at)) STORED,
    email_change_token_current varchar(255) DEFAULT '',
    email_change_confirm_status smallint DEFAULT 0
        CONSTRAINT users_email_change_confirm_status_check CHECK (email_change_confirm_status BETWEEN 0 AND 2),
    banned_until timestamptz,
    reauthentication_token varchar(255) DEFAULT '',
    reauthentication_sent_at timestamptz,
    is_sso_user boolean NOT NULL DEFAULT false,
    deleted_at timestamptz,
    is_anonymous boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS users_instance_id_idx ON auth.users (instance_id);
CREATE INDEX IF NOT EXISTS users_instance_id_email_idx ON auth.users (instance_id, lower(email::text));
CREATE INDEX IF NOT EXISTS users_is_anonymous_idx ON auth.users (is_anonymous);

CREATE TABLE IF NOT EXISTS auth.identities (
    provider_id text NOT NULL,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    identity_data jsonb NOT NULL,
    provider text NOT NULL,
    last_sign_in_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz,
    email text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    CONSTRAINT identities_provider_id_provider_unique UNIQUE (provider_id, provider)
);

CREATE TABLE IF NOT EXISTS auth.sessions (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    created_at timestamptz,
    updated_at timestamptz,
    factor_id uuid,
    aal text,
    not_after timestamptz,
    refreshed_at timestamp,
    user_agent text,
    ip inet,
    tag text
);

CREATE TABLE IF NOT EXISTS auth.refresh_tokens (
    instance_id uuid,
    id bigserial PRIMARY KEY,
    token varchar(255) UNIQUE,
    user_id varchar(255),
    revoked boolean,
    created_at timestamptz,
    updated_at timestamptz,
    parent varchar(255),
    session_id uuid REFERENCES auth.sessions (id) ON DELETE CASCADE
);

CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT nullif(coalesce(current_setting('request.jwt.claim.sub', true),
                         current_setting('request.jwt.claims', true)::jsonb ->> 'sub'), '')::uuid
$$;
CREATE OR REPLACE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(coalesce(current_setting('request.jwt.claim.role', true),
                         current_setting('request.jwt.claims', true)::jsonb ->> 'role'), '')::text
$$;
CREATE OR REPLACE FUNCTION auth.email() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(coalesce(current_setting('request.jwt.claim.email', true),
                         current_setting('request.jwt.claims', true)::jsonb ->> 'email'), '')::text
$$;
CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim', true), ''),
                  nullif(current_setting('request.jwt.claims', true), ''))::jsonb
$$;

GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role, supabase_auth_admin;
GRANT ALL ON ALL TABLES IN SCHEMA auth TO postgres, service_role, supabase_auth_admin, dashboard_user;
GRANT ALL ON ALL SEQUENCES IN SCHEMA auth TO postgres, service_role, supabase_auth_admin, dashboard_user;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA auth TO postgres, anon, authenticated, service_role, dashboard_user;

-- storage: buckets and objects with the columns policies and seed data use, and the path helpers.
CREATE TABLE IF NOT EXISTS storage.buckets (
    id text PRIMARY KEY,
    name text NOT NULL,
    owner uuid,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    public boolean DEFAULT false,
    avif_autodetection boolean DEFAULT false,
    file_size_limit bigint,
    allowed_mime_types text[],
    owner_id text
);
CREATE UNIQUE INDEX IF NOT EXISTS bname ON storage.buckets (name);

CREATE TABLE IF NOT EXISTS storage.objects (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bucket_id text REFERENCES storage.buckets (id),
    name text,
    owner uuid,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    last_accessed_at timestamptz DEFAULT now(),
    metadata jsonb,
    path_tokens text[] GENERATED ALWAYS AS (string_to_array(name, '/')) STORED,
    version text,
    owner_id text,
    user_metadata jsonb
);
CREATE UNIQUE INDEX IF NOT EXISTS bucketid_objname ON storage.objects (bucket_id, name);
CREATE INDEX IF NOT EXISTS name_prefix_search ON storage.objects (name text_pattern_ops);
ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;

CREATE OR REPLACE FUNCTION storage.foldername(name text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE _parts text[];
BEGIN
  SELECT string_to_array(name, '/') INTO _parts;
  RETURN _parts[1 : array_length(_parts, 1) - 1];
END
$$;
CREATE OR REPLACE FUNCTION storage.filename(name text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE _parts text[];
BEGIN
  SELECT string_to_array(name, '/') INTO _parts;
  RETURN _parts[array_length(_parts, 1)];
END
$$;
CREATE OR REPLACE FUNCTION storage.extension(name text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE _parts text[]; _filename text;
BEGIN
  SELECT string_to_array(name, '/') INTO _parts;
  SELECT _parts[array_length(_parts, 1)] INTO _filename;
  RETURN reverse(split_part(reverse(_filename), '.', 1));
END
$$;

GRANT USAGE ON SCHEMA storage TO postgres, anon, authenticated, service_role;
GRANT ALL ON storage.buckets, storage.objects TO postgres, anon, authenticated, service_role;
GRANT ALL ON SCHEMA storage TO supabase_storage_admin, dashboard_user;

-- realtime: the broadcast messages table policies are written on, and the helpers triggers call.
CREATE TABLE IF NOT EXISTS realtime.messages (
    topic text NOT NULL,
    extension text NOT NULL,
    payload jsonb,
    event text,
    private boolean DEFAULT false,
    updated_at timestamp NOT NULL DEFAULT now(),
    inserted_at timestamp NOT NULL DEFAULT now(),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    PRIMARY KEY (id, inserted_at)
);
ALTER TABLE realtime.messages ENABLE ROW LEVEL SECURITY;

CREATE OR REPLACE FUNCTION realtime.topic() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('realtime.topic', true), '')::text
$$;
CREATE OR REPLACE FUNCTION realtime.send(payload jsonb, event text, topic text, private boolean DEFAULT true)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO realtime.messages (payload, event, topic, private, extension)
  VALUES (payload, event, topic, private, 'broadcast');
END
$$;
CREATE OR REPLACE FUNCTION realtime.broadcast_changes(
    topic_name text, event_name text, operation text, table_name text, table_schema text,
    new record, old record, level text DEFAULT 'ROW'
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM realtime.send(jsonb_build_object('operation', operation, 'table', table_name, 'schema', table_schema,
                                           'record', to_jsonb(new), 'old_record', to_jsonb(old)),
                        event_name, topic_name);
END
$$;

GRANT USAGE ON SCHEMA realtime TO postgres, anon, authenticated, service_role;
GRANT ALL ON realtime.messages TO postgres, anon, authenticated, service_role;

-- Database webhooks: the trigger function `supabase db pull` writes into triggers. It records the
-- call and sends nothing (Supabase's calls pg_net).
CREATE TABLE IF NOT EXISTS supabase_functions.hooks (
    id bigserial PRIMARY KEY,
    hook_table_id integer NOT NULL,
    hook_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    request_id bigint
);
CREATE OR REPLACE FUNCTION supabase_functions.http_request() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO supabase_functions.hooks (hook_table_id, hook_name) VALUES (TG_RELID, TG_NAME);
  RETURN coalesce(NEW, OLD);
END
$$;
GRANT USAGE ON SCHEMA supabase_functions TO postgres, anon, authenticated, service_role;

-- The GraphQL endpoint's wrapper around pg_graphql (Supabase creates it, not the extension).
CREATE OR REPLACE FUNCTION graphql_public.graphql(
    "operationName" text DEFAULT NULL, query text DEFAULT NULL, variables jsonb DEFAULT NULL, extensions jsonb DEFAULT NULL
) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  RETURN graphql.resolve(query := query, variables := coalesce(variables, '{}'),
                         "operationName" := "operationName", extensions := extensions);
END
$$;
GRANT USAGE ON SCHEMA graphql, graphql_public TO postgres, anon, authenticated, service_role;

-- Realtime's publication, which migrations extend with `alter publication ... add table`.
DO $bootstrap$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'supabase_realtime') THEN
        CREATE PUBLICATION supabase_realtime;
    END IF;
END
$bootstrap$;
