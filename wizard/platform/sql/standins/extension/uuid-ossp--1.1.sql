-- consolidation-wizard stand-in: not the real extension.
-- uuid-ossp's functions written in SQL for scratch databases. v3, v4 and v5 give the same
-- kind of values as the real extension (v3 and v5 the very same values); v1 and v1mc are
-- time-based with a random node instead of the host's MAC address.

\echo Use "CREATE EXTENSION ""uuid-ossp""" to load this file. \quit

CREATE FUNCTION uuid_nil() RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT '00000000-0000-0000-0000-000000000000'::uuid $$;
CREATE FUNCTION uuid_ns_dns() RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid $$;
CREATE FUNCTION uuid_ns_url() RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT '6ba7b811-9dad-11d1-80b4-00c04fd430c8'::uuid $$;
CREATE FUNCTION uuid_ns_oid() RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT '6ba7b812-9dad-11d1-80b4-00c04fd430c8'::uuid $$;
CREATE FUNCTION uuid_ns_x500() RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT '6ba7b814-9dad-11d1-80b4-00c04fd430c8'::uuid $$;

-- SHA-1 (RFC 3174), which core PostgreSQL lacks; uuid_generate_v5 needs it.
CREATE FUNCTION _cw_uuid_sha1(data bytea) RETURNS bytea
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

-- A name-based UUID from a 16-byte (or longer) hash: set the version and the RFC 4122 variant.
CREATE FUNCTION _cw_uuid_from_hash(hash bytea, version int) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
SELECT encode(set_byte(set_byte(substring(hash FROM 1 FOR 16), 6, (get_byte(hash, 6) & 15) | (version << 4)),
                       8, (get_byte(hash, 8) & 63) | 128), 'hex')::uuid
$$;

-- SQL-standard bodies (RETURN / BEGIN ATOMIC) bind the helpers when the extension is created, so
-- they work whatever the caller's search_path and survive ALTER EXTENSION ... SET SCHEMA.
CREATE FUNCTION uuid_generate_v3(namespace uuid, name text) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN _cw_uuid_from_hash(decode(md5(uuid_send(namespace) || convert_to(name, 'UTF8')), 'hex'), 3);

CREATE FUNCTION uuid_generate_v5(namespace uuid, name text) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN _cw_uuid_from_hash(_cw_uuid_sha1(uuid_send(namespace) || convert_to(name, 'UTF8')), 5);

CREATE FUNCTION uuid_generate_v4() RETURNS uuid
    LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
    AS $$ SELECT pg_catalog.gen_random_uuid() $$;

-- Time-based: 100 ns intervals since 1582-10-15, a random clock sequence and node.
CREATE FUNCTION _cw_uuid_time_based(multicast boolean) RETURNS uuid
    LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
    AS $$
SELECT (lpad(to_hex(ts & 4294967295), 8, '0') || '-' || lpad(to_hex((ts >> 32) & 65535), 4, '0') || '-'
        || lpad(to_hex(((ts >> 48) & 4095) | 4096), 4, '0') || '-'
        || lpad(to_hex((get_byte(r, 0)::int << 8 | get_byte(r, 1)) & 16383 | 32768), 4, '0') || '-'
        || encode(set_byte(substring(r FROM 3 FOR 6), 0,
                           CASE WHEN multicast THEN get_byte(r, 2) | 1 ELSE get_byte(r, 2) & 254 END), 'hex'))::uuid
  FROM (SELECT (extract(epoch FROM clock_timestamp()) * 10000000)::bigint + 122192928000000000 AS ts,
               uuid_send(pg_catalog.gen_random_uuid()) AS r) AS x
$$;

CREATE FUNCTION uuid_generate_v1() RETURNS uuid
    LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
    RETURN _cw_uuid_time_based(false);
CREATE FUNCTION uuid_generate_v1mc() RETURNS uuid
    LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
    RETURN _cw_uuid_time_based(true);
