-- consolidation-wizard stand-in bodies for pgsodium's C functions that migrations reach
-- (vault.create_secret() encrypts through them). Not cryptography: "encryption" returns the
-- message unchanged, keys and nonces are random bytes. Used only in scratch databases.

CREATE FUNCTION pgsodium.randombytes_buf(size integer) RETURNS bytea LANGUAGE sql VOLATILE
AS $$ SELECT decode(string_agg(lpad(to_hex((random() * 255)::int), 2, '0'), ''), 'hex') FROM generate_series(1, size) $$;

CREATE FUNCTION pgsodium.randombytes_random() RETURNS integer LANGUAGE sql VOLATILE
AS $$ SELECT (random() * 2147483647)::integer $$;

CREATE FUNCTION pgsodium.crypto_aead_det_noncegen() RETURNS bytea LANGUAGE sql VOLATILE
AS $$ SELECT pgsodium.randombytes_buf(16) $$;

CREATE FUNCTION pgsodium.crypto_aead_det_keygen() RETURNS bytea LANGUAGE sql VOLATILE
AS $$ SELECT pgsodium.randombytes_buf(32) $$;

CREATE FUNCTION pgsodium.crypto_secretbox_noncegen() RETURNS bytea LANGUAGE sql VOLATILE
AS $$ SELECT pgsodium.randombytes_buf(24) $$;

CREATE FUNCTION pgsodium.crypto_secretbox_keygen() RETURNS bytea LANGUAGE sql VOLATILE
AS $$ SELECT pgsodium.randombytes_buf(32) $$;

CREATE FUNCTION pgsodium.crypto_aead_det_encrypt(message bytea, additional bytea, key bytea, nonce bytea DEFAULT NULL::bytea)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$ SELECT message $$;

CREATE FUNCTION pgsodium.crypto_aead_det_decrypt(ciphertext bytea, additional bytea, key bytea, nonce bytea DEFAULT NULL::bytea)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$ SELECT ciphertext $$;

CREATE FUNCTION pgsodium.crypto_aead_det_encrypt(message bytea, additional bytea, key_id bigint,
    context bytea DEFAULT '\x7067736f6469756d'::bytea, nonce bytea DEFAULT NULL::bytea)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$ SELECT message $$;

CREATE FUNCTION pgsodium.crypto_aead_det_decrypt(message bytea, additional bytea, key_id bigint,
    context bytea DEFAULT '\x7067736f6469756d'::bytea, nonce bytea DEFAULT NULL::bytea)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$ SELECT message $$;

CREATE FUNCTION pgsodium.crypto_aead_det_encrypt(message bytea, additional bytea, key_uuid uuid, nonce bytea)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$ SELECT message $$;

CREATE FUNCTION pgsodium.crypto_aead_det_decrypt(message bytea, additional bytea, key_uuid uuid, nonce bytea)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$ SELECT message $$;
