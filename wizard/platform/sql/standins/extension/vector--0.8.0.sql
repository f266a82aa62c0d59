-- consolidation-wizard stand-in: not the real extension.
-- pgvector's schema surface for scratch databases on servers without pgvector: the vector type
-- (with dimensions: vector(1536)), its distance operators and functions, casts from arrays, and
-- the hnsw and ivfflat index methods with their operator classes, so that columns, functions and
-- indexes of a history can be created and compared. What it is not:
--   * values are kept as text; dimensions are checked, the distances are computed in SQL;
--   * hnsw and ivfflat are hash indexes under another name: no storage parameters (WITH (m = 16)
--     or WITH (lists = 100) fail), no nearest-neighbour search, single-column only;
--   * no halfvec, sparsevec or bit-vector operator classes, no aggregates.
-- Its C functions are PostgreSQL's own text and bit routines, declared LANGUAGE internal.

\echo Use "CREATE EXTENSION vector" to load this file. \quit

CREATE TYPE vector;
CREATE FUNCTION vector_in(cstring, oid, integer) RETURNS vector
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'textin';
CREATE FUNCTION vector_out(vector) RETURNS cstring
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'textout';
-- bit's typmod input keeps the number as given, so format_type() shows vector(1536) as pgvector does.
CREATE FUNCTION vector_typmod_in(cstring[]) RETURNS integer
    LANGUAGE internal IMMUTABLE STRICT PARALLEL SAFE AS 'bittypmodin';
CREATE TYPE vector (
    INPUT = vector_in,
    OUTPUT = vector_out,
    TYPMOD_IN = vector_typmod_in,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended,
    ALIGNMENT = int4
);

CREATE FUNCTION _cw_vector_values(vector) RETURNS double precision[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ('{' || btrim($1::text, '[] ') || '}')::double precision[];

-- SQL-standard bodies (RETURN / BEGIN ATOMIC) bind the helpers when the extension is created.
CREATE FUNCTION vector_dims(vector) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN cardinality(_cw_vector_values($1));
CREATE FUNCTION vector_norm(vector) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT sqrt(sum(x * x)) FROM unnest(_cw_vector_values($1)) AS x;
END;
CREATE FUNCTION l2_distance(vector, vector) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT sqrt(sum((a.x - b.x) * (a.x - b.x)))
      FROM unnest(_cw_vector_values($1)) WITH ORDINALITY AS a(x, i)
      JOIN unnest(_cw_vector_values($2)) WITH ORDINALITY AS b(x, i) ON a.i = b.i;
END;
CREATE FUNCTION l1_distance(vector, vector) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT sum(abs(a.x - b.x))
      FROM unnest(_cw_vector_values($1)) WITH ORDINALITY AS a(x, i)
      JOIN unnest(_cw_vector_values($2)) WITH ORDINALITY AS b(x, i) ON a.i = b.i;
END;
CREATE FUNCTION inner_product(vector, vector) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT sum(a.x * b.x)
      FROM unnest(_cw_vector_values($1)) WITH ORDINALITY AS a(x, i)
      JOIN unnest(_cw_vector_values($2)) WITH ORDINALITY AS b(x, i) ON a.i = b.i;
END;
CREATE FUNCTION vector_negative_inner_product(vector, vector) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN -inner_product($1, $2);
CREATE FUNCTION cosine_distance(vector, vector) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 1 - inner_product($1, $2) / nullif(vector_norm($1) * vector_norm($2), 0);

CREATE OPERATOR <-> (LEFTARG = vector, RIGHTARG = vector, FUNCTION = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = vector, RIGHTARG = vector, FUNCTION = vector_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = vector, RIGHTARG = vector, FUNCTION = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = vector, RIGHTARG = vector, FUNCTION = l1_distance, COMMUTATOR = '<+>');

-- Element-wise ordering, as pgvector's B-tree operator class.
CREATE FUNCTION vector_cmp(vector, vector) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN btarraycmp(_cw_vector_values($1), _cw_vector_values($2));
CREATE FUNCTION vector_lt(vector, vector) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN vector_cmp($1, $2) < 0;
CREATE FUNCTION vector_le(vector, vector) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN vector_cmp($1, $2) <= 0;
CREATE FUNCTION vector_eq(vector, vector) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN vector_cmp($1, $2) = 0;
CREATE FUNCTION vector_ne(vector, vector) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN vector_cmp($1, $2) <> 0;
CREATE FUNCTION vector_ge(vector, vector) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN vector_cmp($1, $2) >= 0;
CREATE FUNCTION vector_gt(vector, vector) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN vector_cmp($1, $2) > 0;
CREATE OPERATOR < (LEFTARG = vector, RIGHTARG = vector, FUNCTION = vector_lt, COMMUTATOR = >, NEGATOR = >=);
CREATE OPERATOR <= (LEFTARG = vector, RIGHTARG = vector, FUNCTION = vector_le, COMMUTATOR = >=, NEGATOR = >);
CREATE OPERATOR = (LEFTARG = vector, RIGHTARG = vector, FUNCTION = vector_eq, COMMUTATOR = =, NEGATOR = <>);
CREATE OPERATOR <> (LEFTARG = vector, RIGHTARG = vector, FUNCTION = vector_ne, COMMUTATOR = <>, NEGATOR = =);
CREATE OPERATOR >= (LEFTARG = vector, RIGHTARG = vector, FUNCTION = vector_ge, COMMUTATOR = <=, NEGATOR = <);
CREATE OPERATOR > (LEFTARG = vector, RIGHTARG = vector, FUNCTION = vector_gt, COMMUTATOR = <, NEGATOR = <=);
CREATE OPERATOR CLASS vector_ops DEFAULT FOR TYPE vector USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, FUNCTION 1 vector_cmp(vector, vector);

-- Dimensions: vector(3) accepts three values only.
CREATE FUNCTION vector(vector, integer, boolean) RETURNS vector
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
DECLARE
    dims integer := cardinality(('{' || btrim($1::text, '[] ') || '}')::double precision[]);
BEGIN
    IF $2 >= 0 AND dims <> $2 THEN
        RAISE EXCEPTION 'expected % dimensions, not %', $2, dims USING ERRCODE = 'data_exception';
    END IF;
    RETURN $1;
END
$$;
CREATE CAST (vector AS vector) WITH FUNCTION vector(vector, integer, boolean) AS IMPLICIT;

CREATE FUNCTION array_to_vector(real[], integer, boolean) RETURNS vector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN vector(('[' || array_to_string($1, ',') || ']')::vector, $2, $3);
CREATE FUNCTION array_to_vector(double precision[], integer, boolean) RETURNS vector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN vector(('[' || array_to_string($1, ',') || ']')::vector, $2, $3);
CREATE FUNCTION array_to_vector(integer[], integer, boolean) RETURNS vector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN vector(('[' || array_to_string($1, ',') || ']')::vector, $2, $3);
CREATE FUNCTION array_to_vector(numeric[], integer, boolean) RETURNS vector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN vector(('[' || array_to_string($1, ',') || ']')::vector, $2, $3);
CREATE FUNCTION vector_to_float4(vector, integer, boolean) RETURNS real[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN _cw_vector_values($1)::real[];
CREATE CAST (real[] AS vector) WITH FUNCTION array_to_vector(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS vector) WITH FUNCTION array_to_vector(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (integer[] AS vector) WITH FUNCTION array_to_vector(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS vector) WITH FUNCTION array_to_vector(numeric[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (vector AS real[]) WITH FUNCTION vector_to_float4(vector, integer, boolean) AS IMPLICIT;

-- Index methods with pgvector's names, built on the hash index code (see the header).
CREATE FUNCTION _cw_vector_hash(vector) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN hash_array(_cw_vector_values($1));
CREATE FUNCTION hnswhandler(internal) RETURNS index_am_handler LANGUAGE internal AS 'hashhandler';
CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER hnswhandler;
CREATE FUNCTION ivfflathandler(internal) RETURNS index_am_handler LANGUAGE internal AS 'hashhandler';
CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER ivfflathandler;

CREATE OPERATOR CLASS vector_l2_ops DEFAULT FOR TYPE vector USING hnsw AS
    OPERATOR 1 =, FUNCTION 1 _cw_vector_hash(vector);
CREATE OPERATOR CLASS vector_ip_ops FOR TYPE vector USING hnsw AS
    OPERATOR 1 =, FUNCTION 1 _cw_vector_hash(vector);
CREATE OPERATOR CLASS vector_cosine_ops FOR TYPE vector USING hnsw AS
    OPERATOR 1 =, FUNCTION 1 _cw_vector_hash(vector);
CREATE OPERATOR CLASS vector_l1_ops FOR TYPE vector USING hnsw AS
    OPERATOR 1 =, FUNCTION 1 _cw_vector_hash(vector);
CREATE OPERATOR CLASS vector_l2_ops DEFAULT FOR TYPE vector USING ivfflat AS
    OPERATOR 1 =, FUNCTION 1 _cw_vector_hash(vector);
CREATE OPERATOR CLASS vector_ip_ops FOR TYPE vector USING ivfflat AS
    OPERATOR 1 =, FUNCTION 1 _cw_vector_hash(vector);
CREATE OPERATOR CLASS vector_cosine_ops FOR TYPE vector USING ivfflat AS
    OPERATOR 1 =, FUNCTION 1 _cw_vector_hash(vector);
