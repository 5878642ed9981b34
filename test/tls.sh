#!/usr/bin/env bash
# TLS: a CA and a server certificate for 127.0.0.1 are made with openssl at
# test time, the simulator serves HTTPS with them, and foreign servers show:
# no ca_file -> 08001 (certificate verify failed); ca_file -> rows;
# tls_verify false -> rows; a host name the certificate does not name -> 08001;
# a ca_file that does not exist -> 08001.
#
# Uses the running cluster of the environment (PGHOST, PGPORT, PGUSER), e.g.
# after sf_start_cluster of test/cluster.sh.  Prints TAP; exits non-zero when
# a test fails.
#
#   bash test/tls.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
DB=sf_tls_test

source "$(dirname "$0")/tap.sh"

TMP=$(mktemp -d /tmp/sf_tls.XXXXXX)
chmod 755 "$TMP"	# the postgres user reads the CA file
SIM_PID=""
cleanup() {
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "1..9"

# -- certificates ------------------------------------------------------------
(
	cd "$TMP" &&
	openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=subscriber_fdw test CA" \
		-keyout ca.key -out ca.crt \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" &&
	openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=127.0.0.1" \
		-keyout server.key -out server.csr &&
	printf '%s\n' "subjectAltName=IP:127.0.0.1" "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >ext.cnf &&
	openssl x509 -req -sha256 -days 2 -in server.csr -CA ca.crt -CAkey ca.key \
		-CAcreateserial -extfile ext.cnf -out server.crt &&
	chmod 644 ca.crt server.crt
) >"$TMP/openssl.log" 2>&1
ok $? "openssl made a CA and a server certificate for IP 127.0.0.1" "$(tail -3 "$TMP/openssl.log")"

# -- the simulator over HTTPS -------------------------------------------------
python3 "$HERE/simulator.py" --port 0 --port-file "$TMP/port" --quiet \
	--tls-cert "$TMP/server.crt" --tls-key "$TMP/server.key" >"$TMP/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 1 100); do
	[ -s "$TMP/port" ] && break
	sleep 0.1
done
PORT=$(cat "$TMP/port" 2>/dev/null)
[ -n "$PORT" ] && curl -s --cacert "$TMP/ca.crt" "https://127.0.0.1:$PORT/_sim/stats" | grep -q connections
ok $? "the simulator serves HTTPS on 127.0.0.1:${PORT:-?} with that certificate" "$(cat "$TMP/sim.log")"
URL="https://127.0.0.1:${PORT:-1}"

# -- foreign servers -----------------------------------------------------------
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
psql -X -q -d postgres -c "CREATE DATABASE $DB" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" >"$TMP/setup.log" 2>&1 <<SQL
SET client_min_messages = warning;
CREATE EXTENSION subscriber_fdw;
-- the row count, or SQLSTATE | message | detail | hint of the error
CREATE FUNCTION try(q text) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE n bigint; st text; msg text; det text; hin text;
BEGIN
  EXECUTE 'SELECT count(*) FROM (' || q || ') t' INTO n;
  RETURN 'rows ' || n;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
    det = PG_EXCEPTION_DETAIL, hin = PG_EXCEPTION_HINT;
  RETURN st || ' | ' || msg || ' | ' || coalesce(det, '') || ' | ' || coalesce(hin, '');
END \$\$;
CREATE FUNCTION mk(name text, url text, opts text) RETURNS void LANGUAGE plpgsql AS \$\$
BEGIN
  EXECUTE format('CREATE SERVER %I FOREIGN DATA WRAPPER subscriber_fdw OPTIONS (base_url %L, max_retries ''0'' %s)',
                 name, url, opts);
  EXECUTE format('CREATE USER MAPPING FOR PUBLIC SERVER %I OPTIONS (username ''sim'', password ''sim-secret'')', name);
  EXECUTE format('CREATE FOREIGN TABLE %I (customer_id uuid, subscriber_id uuid, status text) '
                 'SERVER %I OPTIONS (resource ''customer_subscribers'')', name || '_t', name);
END \$\$;
SELECT mk('no_ca', '$URL', '');
SELECT mk('with_ca', '$URL', ', ca_file ''$TMP/ca.crt''');
SELECT mk('no_verify', '$URL', ', tls_verify ''false''');
SELECT mk('wrong_host', 'https://localhost:${PORT:-1}', ', ca_file ''$TMP/ca.crt''');
SELECT mk('missing_ca', '$URL', ', ca_file ''$TMP/no-such-ca.crt''');
SQL
ok $? "servers created" "$(cat "$TMP/setup.log")"

try() {
	psql -X -q -A -t -d "$DB" -c "SELECT try(\$q\$SELECT * FROM $1_t WHERE customer_id = 'cccccccc-0000-4000-8000-000000000003'\$q\$)" 2>&1
}

out=$(try no_ca)
case "$out" in "08001 | "*certificate*"ca_file"*) r=0 ;; *) r=1 ;; esac
ok $r "no ca_file: certificate verify failed, 08001, a hint naming ca_file" "$out"

out=$(try with_ca)
[ "$out" = "rows 3" ]
ok $? "ca_file with the CA: the rows" "$out"

out=$(try no_verify)
[ "$out" = "rows 3" ]
ok $? "tls_verify false: the rows" "$out"

out=$(try wrong_host)
case "$out" in "08001 | "*) r=0 ;; *) r=1 ;; esac
ok $r "a host name the certificate does not name (localhost): 08001" "$out"

out=$(try missing_ca)
case "$out" in "08001 | "*) r=0 ;; *) r=1 ;; esac
ok $r "a ca_file that does not exist: 08001" "$out"

# exactly the two good servers reached the API (the others stopped at TLS);
# each count is one request, answered from the API's total
log=$(curl -s --cacert "$TMP/ca.crt" "https://127.0.0.1:${PORT:-1}/_sim/log")
count=$(printf '%s' "$log" | python3 -c 'import json,sys; l=json.load(sys.stdin); print(sum(1 for e in l if e["status"] == 200))' 2>&1)
[ "$count" = 2 ]
ok $? "the simulator answered exactly the two verified-or-unverified requests" "got: $count"

[ "$FAILED" = 0 ]
