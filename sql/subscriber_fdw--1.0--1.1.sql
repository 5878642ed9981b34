/* subscriber_fdw--1.0--1.1.sql: shared limits and their statistics */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION subscriber_fdw UPDATE TO '1.1'" to load this file. \quit

CREATE FUNCTION subscriber_fdw_stats(
    OUT server text,
    OUT scope text,
    OUT requests bigint,
    OUT retries bigint,
    OUT errors bigint,
    OUT throttled bigint,
    OUT bytes_received bigint,
    OUT wait_ms double precision,
    OUT in_flight integer,
    OUT stats_reset timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE VIEW subscriber_fdw_stats AS
  SELECT * FROM subscriber_fdw_stats();

COMMENT ON VIEW subscriber_fdw_stats IS 'requests of subscriber_fdw per foreign server, and their limits';
GRANT SELECT ON subscriber_fdw_stats TO PUBLIC;

CREATE FUNCTION subscriber_fdw_stats_reset()
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION subscriber_fdw_stats_reset() IS 'resets the statistics of subscriber_fdw_stats for the current database';
REVOKE EXECUTE ON FUNCTION subscriber_fdw_stats_reset() FROM PUBLIC;
