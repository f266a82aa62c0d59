-- consolidation-wizard stand-in: not the real extension.
-- pgsql-http's types and functions for scratch databases, so that functions and triggers that
-- call them can be created. http() and every http_*() request function raise
-- feature_not_supported when called: a scratch database must not call anything on the network.
-- urlencode() and http_header() work as in the real extension.

\echo Use "CREATE EXTENSION http" to load this file. \quit

CREATE DOMAIN http_method AS text
    CHECK (VALUE ILIKE 'get' OR VALUE ILIKE 'post' OR VALUE ILIKE 'put' OR VALUE ILIKE 'delete'
           OR VALUE ILIKE 'patch' OR VALUE ILIKE 'head');
CREATE DOMAIN content_type AS text CHECK (VALUE ~ '^\S+\/\S+');
CREATE TYPE http_header AS (field character varying, value character varying);
CREATE TYPE http_request AS (
    method http_method,
    uri character varying,
    headers http_header[],
    content_type character varying,
    content character varying
);
CREATE TYPE http_response AS (
    status integer,
    content_type character varying,
    headers http_header[],
    content character varying
);

CREATE FUNCTION http_header(field character varying, value character varying) RETURNS http_header
    LANGUAGE sql IMMUTABLE
    RETURN ROW(field, value)::http_header;

CREATE FUNCTION http(request http_request) RETURNS http_response
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    RAISE EXCEPTION 'consolidation-wizard stand-in: http % % is not sent from a scratch database',
        upper((request).method), (request).uri
        USING ERRCODE = 'feature_not_supported', HINT = 'use a shadow server with the real http extension';
END
$$;

-- SQL-standard bodies bind http() when the extension is created.
CREATE FUNCTION http_get(uri character varying) RETURNS http_response
    LANGUAGE sql VOLATILE RETURN http(ROW('GET', uri, NULL, NULL, NULL)::http_request);
CREATE FUNCTION http_get(uri character varying, data jsonb) RETURNS http_response
    LANGUAGE sql VOLATILE RETURN http(ROW('GET', uri, NULL, NULL, NULL)::http_request);
CREATE FUNCTION http_post(uri character varying, content character varying, content_type character varying)
RETURNS http_response
    LANGUAGE sql VOLATILE RETURN http(ROW('POST', uri, NULL, content_type, content)::http_request);
CREATE FUNCTION http_post(uri character varying, data jsonb) RETURNS http_response
    LANGUAGE sql VOLATILE RETURN http(ROW('POST', uri, NULL, 'application/x-www-form-urlencoded', NULL)::http_request);
CREATE FUNCTION http_put(uri character varying, content character varying, content_type character varying)
RETURNS http_response
    LANGUAGE sql VOLATILE RETURN http(ROW('PUT', uri, NULL, content_type, content)::http_request);
CREATE FUNCTION http_patch(uri character varying, content character varying, content_type character varying)
RETURNS http_response
    LANGUAGE sql VOLATILE RETURN http(ROW('PATCH', uri, NULL, content_type, content)::http_request);
CREATE FUNCTION http_delete(uri character varying) RETURNS http_response
    LANGUAGE sql VOLATILE RETURN http(ROW('DELETE', uri, NULL, NULL, NULL)::http_request);
CREATE FUNCTION http_delete(uri character varying, content character varying, content_type character varying)
RETURNS http_response
    LANGUAGE sql VOLATILE RETURN http(ROW('DELETE', uri, NULL, content_type, content)::http_request);
CREATE FUNCTION http_head(uri character varying) RETURNS http_response
    LANGUAGE sql VOLATILE RETURN http(ROW('HEAD', uri, NULL, NULL, NULL)::http_request);

CREATE FUNCTION http_set_curlopt(curlopt character varying, value character varying) RETURNS boolean
    LANGUAGE sql VOLATILE RETURN true;
CREATE FUNCTION http_reset_curlopt() RETURNS boolean
    LANGUAGE sql VOLATILE RETURN true;
CREATE FUNCTION http_list_curlopt() RETURNS TABLE (curlopt text, value text)
    LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT NULL::text, NULL::text WHERE false;
END;

-- Percent-encoding of everything but RFC 3986's unreserved characters.
CREATE FUNCTION urlencode(string bytea) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
BEGIN ATOMIC
    SELECT coalesce(string_agg(CASE WHEN b BETWEEN 48 AND 57 OR b BETWEEN 65 AND 90 OR b BETWEEN 97 AND 122
                                         OR b IN (45, 46, 95, 126)
                                    THEN chr(b) ELSE '%' || upper(lpad(to_hex(b), 2, '0')) END, '' ORDER BY i), '')
      FROM (SELECT i, get_byte(string, i) AS b FROM generate_series(0, length(string) - 1) AS i) AS bytes;
END;
CREATE FUNCTION urlencode(string character varying) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    RETURN urlencode(convert_to(string, 'UTF8'));
CREATE FUNCTION urlencode(data jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
BEGIN ATOMIC
    SELECT coalesce(string_agg(urlencode(convert_to(key, 'UTF8')) || '=' || urlencode(convert_to(value, 'UTF8')), '&'
                               ORDER BY key), '')
      FROM jsonb_each_text(data);
END;
