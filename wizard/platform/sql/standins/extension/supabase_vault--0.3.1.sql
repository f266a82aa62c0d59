-- consolidation-wizard stand-in: not the real extension.
-- Supabase Vault's schema surface for scratch databases: vault.secrets, the view
-- vault.decrypted_secrets, vault.create_secret() and vault.update_secret(). Secrets are stored
-- in PLAIN TEXT (the real Vault encrypts them with a key the scratch server does not have):
-- never put a real secret in a scratch database.

\echo Use "CREATE EXTENSION supabase_vault" to load this file. \quit

CREATE TABLE @extschema@.secrets (
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    name text,
    description text NOT NULL DEFAULT '',
    secret text NOT NULL,
    key_id uuid,
    nonce bytea,
    created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
COMMENT ON TABLE @extschema@.secrets IS 'consolidation-wizard stand-in: secrets in plain text, not encrypted';
CREATE UNIQUE INDEX secrets_name_idx ON @extschema@.secrets (name) WHERE name IS NOT NULL;

CREATE VIEW @extschema@.decrypted_secrets AS
SELECT id, name, description, secret, secret AS decrypted_secret, key_id, nonce, created_at, updated_at
  FROM @extschema@.secrets;

CREATE FUNCTION @extschema@.create_secret(
    new_secret text,
    new_name text DEFAULT NULL,
    new_description text DEFAULT '',
    new_key_id uuid DEFAULT NULL
) RETURNS uuid
    LANGUAGE sql SECURITY DEFINER
    SET search_path = ''
BEGIN ATOMIC
    INSERT INTO @extschema@.secrets (secret, name, description, key_id)
    VALUES (new_secret, new_name, new_description, new_key_id)
    RETURNING id;
END;

CREATE FUNCTION @extschema@.update_secret(
    secret_id uuid,
    new_secret text DEFAULT NULL,
    new_name text DEFAULT NULL,
    new_description text DEFAULT NULL,
    new_key_id uuid DEFAULT NULL
) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path = ''
BEGIN ATOMIC
    UPDATE @extschema@.secrets
       SET secret = coalesce(new_secret, secret),
           name = coalesce(new_name, name),
           description = coalesce(new_description, description),
           key_id = coalesce(new_key_id, key_id),
           updated_at = now()
     WHERE id = secret_id;
END;

REVOKE ALL ON @extschema@.secrets, @extschema@.decrypted_secrets FROM PUBLIC;
DO $standin$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT USAGE ON SCHEMA @extschema@ TO postgres, service_role;
        GRANT SELECT, DELETE ON @extschema@.secrets, @extschema@.decrypted_secrets TO postgres, service_role;
        GRANT EXECUTE ON FUNCTION @extschema@.create_secret(text, text, text, uuid),
                                  @extschema@.update_secret(uuid, text, text, text, uuid) TO postgres, service_role;
    END IF;
END
$standin$;
