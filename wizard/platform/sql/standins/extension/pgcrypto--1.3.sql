-- consolidation-wizard stand-in: not the real extension.
-- pgcrypto's functions for scratch databases on servers that lack it (such as the embedded
-- server). digest() and hmac() give the real values (md5, sha1, sha224, sha256, sha384,
-- sha512); gen_random_bytes() draws on the server's strong random source through
-- gen_random_uuid(); gen_salt() and crypt() keep the real formats and the property migrations
-- rely on, crypt(pw, crypt(pw, salt)) = crypt(pw, salt), but the hashes are NOT bcrypt/md5-crypt
-- values; the encryption and PGP functions exist (so functions calling them can be created)
-- and raise feature_not_supported when called.

\echo Use "CREATE EXTENSION pgcrypto" to load this file. \quit

-- SHA-1 (RFC 3174), which core PostgreSQL lacks.
CREATE FUNCTION _cw_pgcrypto_sha1(data bytea) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
DECLARE
    m32 constant bigint := 4294967295;
    h bigint[] := ARRAY[1732584193, 4023233417, 2562383102, 271733878, 3285377520]::bigint[];
    msg bytea := data || '\x80'::bytea;
    w bigint[];
    a bigint; b bigint; c bigint; d bigint; e bigint; f bigint; k bigint; t bigint;
    base int;
BEGIN
    WHILE length(msg) % 64 <> 56 LOOP
        msg := msg || '\x00'::bytea;
    END LOOP;
    msg := msg || int8send(length(data)::bigint * 8);
    FOR chunk IN 0 .. length(msg) / 64 - 1 LOOP
        w := array_fill(0::bigint, ARRAY[80]);
        FOR i IN 0 .. 15 LOOP
            base := chunk * 64 + i * 4;
            w[i + 1] := (get_byte(msg, base)::bigint << 24) | (get_byte(msg, base + 1)::bigint << 16)
                        | (get_byte(msg, base + 2)::bigint << 8) | get_byte(msg, base + 3)::bigint;
        END LOOP;
        FOR i IN 16 .. 79 LOOP
            t := w[i - 2] # w[i - 7] # w[i - 13] # w[i - 15];
            w[i + 1] := ((t << 1) | (t >> 31)) & m32;
        END LOOP;
        a := h[1]; b := h[2]; c := h[3]; d := h[4]; e := h[5];
        FOR i IN 0 .. 79 LOOP
            IF i < 20 THEN
                f := (b & c) | ((~b & m32) & d); k := 1518500249;
            ELSIF i < 40 THEN
                f := b # c # d; k := 1859775393;
            ELSIF i < 60 THEN
                f := (b & c) | (b & d) | (c & d); k := 2400959708;
            ELSE
                f := b # c # d; k := 3395469782;
            END IF;
            t := ((((a << 5) | (a >> 27)) & m32) + f + e + k + w[i + 1]) & m32;
            e := d; d := c; c := ((b << 30) | (b >> 2)) & m32; b := a; a := t;
        END LOOP;
        h[1] := (h[1] + a) & m32; h[2] := (h[2] + b) & m32; h[3] := (h[3] + c) & m32;
        h[4] := (h[4] + d) & m32; h[5] := (h[5] + e) & m32;
    END LOOP;
    RETURN substring(int8send(h[1]) FROM 5) || substring(int8send(h[2]) FROM 5) || substring(int8send(h[3]) FROM 5)
        || substring(int8send(h[4]) FROM 5) || substring(int8send(h[5]) FROM 5);
END
$$;

CREATE FUNCTION _cw_pgcrypto_fail(message text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION '%', message USING ERRCODE = 'invalid_parameter_value'; END $$;

-- The key of an HMAC, zero-padded to the hash's block size and XORed with the pad byte.
CREATE FUNCTION _cw_pgcrypto_pad(key bytea, pad integer, block integer) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
DECLARE
    padded bytea := key || decode(repeat('00', block - length(key)), 'hex');
BEGIN
    FOR i IN 0 .. block - 1 LOOP
        padded := set_byte(padded, i, get_byte(padded, i) # pad);
    END LOOP;
    RETURN padded;
END
$$;

-- Characters of crypt()'s salt alphabet drawn from the strong random source.
CREATE FUNCTION _cw_pgcrypto_salt_chars(n integer) RETURNS text
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
    AS $$
DECLARE
    alphabet constant text := './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    result text := '';
    r bytea;
BEGIN
    WHILE length(result) < n LOOP
        r := uuid_send(pg_catalog.gen_random_uuid());
        FOR i IN 0 .. 5 LOOP
            result := result || substr(alphabet, (get_byte(r, i) % 64) + 1, 1);
        END LOOP;
    END LOOP;
    RETURN left(result, n);
END
$$;

-- SQL-standard bodies (RETURN / BEGIN ATOMIC) bind the helpers when the extension is created, so
-- they work whatever the caller's search_path and survive ALTER EXTENSION ... SET SCHEMA.
CREATE FUNCTION digest(bytea, text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE lower($2)
        WHEN 'md5' THEN decode(md5($1), 'hex')
        WHEN 'sha1' THEN _cw_pgcrypto_sha1($1)
        WHEN 'sha224' THEN sha224($1)
        WHEN 'sha256' THEN sha256($1)
        WHEN 'sha384' THEN sha384($1)
        WHEN 'sha512' THEN sha512($1)
        ELSE _cw_pgcrypto_fail(format('Cannot use "%s": No such hash algorithm', $2))::bytea
    END;

CREATE FUNCTION digest(text, text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN digest(convert_to($1, 'UTF8'), $2);

-- HMAC (RFC 2104) over digest(): block size 128 for sha384/sha512, 64 otherwise.
CREATE FUNCTION hmac(bytea, bytea, text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT digest(_cw_pgcrypto_pad(k.key, 92, b.size) || digest(_cw_pgcrypto_pad(k.key, 54, b.size) || $1, $3), $3)
      FROM (SELECT CASE WHEN lower($3) IN ('sha384', 'sha512') THEN 128 ELSE 64 END AS size) AS b,
           LATERAL (SELECT CASE WHEN length($2) > b.size THEN digest($2, $3) ELSE $2 END AS key) AS k;
END;

CREATE FUNCTION hmac(text, text, text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN hmac(convert_to($1, 'UTF8'), convert_to($2, 'UTF8'), $3);

CREATE FUNCTION gen_random_bytes(integer) RETURNS bytea
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
    AS $$
DECLARE
    result bytea := ''::bytea;
    r bytea;
BEGIN
    IF $1 < 1 OR $1 > 1024 THEN
        RAISE EXCEPTION 'Length not in range' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WHILE length(result) < $1 LOOP
        -- bytes 0-5 and 10-15 of a version 4 UUID are fully random
        r := uuid_send(pg_catalog.gen_random_uuid());
        result := result || substring(r FROM 1 FOR 6) || substring(r FROM 11 FOR 6);
    END LOOP;
    RETURN substring(result FROM 1 FOR $1);
END
$$;

CREATE FUNCTION gen_random_uuid() RETURNS uuid
    LANGUAGE sql VOLATILE PARALLEL SAFE
    RETURN pg_catalog.gen_random_uuid();

CREATE FUNCTION gen_salt(text, integer) RETURNS text
    LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
    RETURN CASE lower($1)
        WHEN 'bf' THEN '$2a$' || lpad($2::text, 2, '0') || '$' || _cw_pgcrypto_salt_chars(22)
        WHEN 'md5' THEN '$1$' || _cw_pgcrypto_salt_chars(8)
        WHEN 'xdes' THEN '_' || _cw_pgcrypto_salt_chars(8)
        WHEN 'des' THEN _cw_pgcrypto_salt_chars(2)
        ELSE _cw_pgcrypto_fail('gen_salt: Unknown salt algorithm')
    END;

CREATE FUNCTION gen_salt(text) RETURNS text
    LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
    RETURN gen_salt($1, CASE lower($1) WHEN 'bf' THEN 6 ELSE 0 END);

-- Same formats as the real crypt(): the setting (algorithm, cost, salt) read from ``salt``,
-- then a hash of setting and password. Not interoperable with real bcrypt or md5-crypt hashes.
CREATE FUNCTION crypt(text, text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
DECLARE
    setting text;
    length_ integer;
BEGIN
    IF $2 ~ '^\$2[abxy]?\$[0-9][0-9]\$' THEN
        setting := left($2, 29); length_ := 31;
    ELSIF $2 LIKE '$1$%' THEN
        setting := '$1$' || left(split_part($2, '$', 3), 8) || '$'; length_ := 22;
    ELSIF left($2, 1) = '_' THEN
        setting := left($2, 9); length_ := 11;
    ELSE
        setting := left($2, 2); length_ := 11;
    END IF;
    RETURN setting || translate(left(encode(sha512(convert_to(setting || $1, 'UTF8')), 'base64'), length_), '+', '.');
END
$$;

CREATE FUNCTION encrypt(bytea, bytea, text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s encrypt() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION decrypt(bytea, bytea, text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s decrypt() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION encrypt_iv(bytea, bytea, bytea, text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s encrypt_iv() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION decrypt_iv(bytea, bytea, bytea, text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s decrypt_iv() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_sym_encrypt(text, text) RETURNS bytea
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_sym_encrypt() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_sym_encrypt_bytea(bytea, text) RETURNS bytea
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_sym_encrypt_bytea() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_sym_encrypt(text, text, text) RETURNS bytea
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_sym_encrypt() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_sym_encrypt_bytea(bytea, text, text) RETURNS bytea
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_sym_encrypt_bytea() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_sym_decrypt(bytea, text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_sym_decrypt() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_sym_decrypt_bytea(bytea, text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_sym_decrypt_bytea() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_sym_decrypt(bytea, text, text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_sym_decrypt() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_sym_decrypt_bytea(bytea, text, text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_sym_decrypt_bytea() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_pub_encrypt(text, bytea) RETURNS bytea
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_pub_encrypt() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_pub_encrypt_bytea(bytea, bytea) RETURNS bytea
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_pub_encrypt_bytea() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_pub_encrypt(text, bytea, text) RETURNS bytea
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_pub_encrypt() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_pub_encrypt_bytea(bytea, bytea, text) RETURNS bytea
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_pub_encrypt_bytea() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_pub_decrypt(bytea, bytea) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_pub_decrypt() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_pub_decrypt_bytea(bytea, bytea) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_pub_decrypt_bytea() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_pub_decrypt(bytea, bytea, text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_pub_decrypt() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_pub_decrypt_bytea(bytea, bytea, text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_pub_decrypt_bytea() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_pub_decrypt(bytea, bytea, text, text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_pub_decrypt() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_pub_decrypt_bytea(bytea, bytea, text, text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_pub_decrypt_bytea() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_key_id(bytea) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_key_id() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION armor(bytea) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s armor() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION armor(bytea, text[], text[]) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s armor() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION dearmor(text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s dearmor() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
CREATE FUNCTION pgp_armor_headers(text, key OUT text, value OUT text) RETURNS SETOF record
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RAISE EXCEPTION 'consolidation-wizard stand-in: pgcrypto''s pgp_armor_headers() does not work in this scratch database' USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real pgcrypto'; END $$;
