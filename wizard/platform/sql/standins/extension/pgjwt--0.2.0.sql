-- consolidation-wizard stand-in: not the real extension.
-- pgjwt's functions (HS256/HS384/HS512 JSON Web Tokens over pgcrypto's hmac()), written for
-- scratch databases on servers without pgjwt (Supabase no longer ships it on PostgreSQL 17).
-- sign() and verify() follow RFC 7519; SQL-standard bodies bind hmac() when the extension is
-- created, so they work whatever the caller's search_path.

\echo Use "CREATE EXTENSION pgjwt" to load this file. \quit

CREATE FUNCTION @extschema@.url_encode(data bytea) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN translate(encode(data, 'base64'), E'+/=\n', '-_');

CREATE FUNCTION @extschema@.url_decode(data text) RETURNS bytea
    LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT decode(t.s || repeat('=', (4 - length(t.s) % 4) % 4), 'base64')
      FROM (SELECT translate(data, '-_', '+/') AS s) AS t;
END;

CREATE FUNCTION @extschema@.algorithm_sign(signables text, secret text, algorithm text) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN @extschema@.url_encode(hmac(signables, secret,
        CASE algorithm WHEN 'HS256' THEN 'sha256' WHEN 'HS384' THEN 'sha384' WHEN 'HS512' THEN 'sha512' ELSE '' END));

CREATE FUNCTION @extschema@.sign(payload json, secret text, algorithm text DEFAULT 'HS256') RETURNS text
    LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT s.signables || '.' || @extschema@.algorithm_sign(s.signables, secret, algorithm)
      FROM (SELECT @extschema@.url_encode(convert_to(json_build_object('alg', algorithm, 'typ', 'JWT')::text, 'utf8'))
                   || '.' || @extschema@.url_encode(convert_to(payload::text, 'utf8')) AS signables) AS s;
END;

CREATE FUNCTION @extschema@.try_cast_double(inp text) RETURNS double precision
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    RETURN inp::double precision;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

CREATE FUNCTION @extschema@.verify(token text, secret text, algorithm text DEFAULT 'HS256')
RETURNS TABLE (header json, payload json, valid boolean)
    LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT j.header AS header, j.payload AS payload,
           j.signature_ok AND tstzrange(to_timestamp(@extschema@.try_cast_double(j.payload ->> 'nbf')),
                                        to_timestamp(@extschema@.try_cast_double(j.payload ->> 'exp')))
                              @> CURRENT_TIMESTAMP AS valid
      FROM (SELECT convert_from(@extschema@.url_decode(r[1]), 'utf8')::json AS header,
                   convert_from(@extschema@.url_decode(r[2]), 'utf8')::json AS payload,
                   r[3] = @extschema@.algorithm_sign(r[1] || '.' || r[2], secret, algorithm) AS signature_ok
              FROM regexp_split_to_array(token, '\.') AS r) AS j;
END;
