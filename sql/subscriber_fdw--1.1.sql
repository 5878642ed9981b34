/* subscriber_fdw--1.1.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION subscriber_fdw" to load this file. \quit

CREATE FUNCTION subscriber_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION subscriber_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION subscriber_fdw_version()
RETURNS text
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION subscriber_fdw_version() IS 'version of the subscriber_fdw extension';

CREATE FOREIGN DATA WRAPPER subscriber_fdw
  HANDLER subscriber_fdw_handler
  VALIDATOR subscriber_fdw_validator;

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
