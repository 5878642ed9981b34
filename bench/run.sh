#!/usr/bin/env bash
# The benchmark of subscriber_fdw (issues 7 and 15): builds, starts the
# simulator and a throw-away cluster on loopback, measures, and prints a table
# of figures, each the median of several runs, with the machine's details and
# pass/miss against the targets.
#
#   bash bench/run.sh            (or: make bench)
#
# The main data set is the simulator's varied family (customers
# cccccccc-0000-4000-9999-N: every quirk of the API in a share of the
# records); the plain family (cccccccc-0000-4000-8000-N, the data of the
# first benchmarks) is measured beside it for comparison.  count(*) must read
# the records: where the extension has the option count_pushdown, the bench
# server sets it to 'false'.
#
# Environment:
#   BENCH_RUNS=3               runs per figure (the median is shown)
#   BENCH_SUBSCRIBERS=200000   subscribers of the throughput customers (both
#                              data sets; also the rows loaded by CREATE TABLE
#                              AS and by COPY FROM)
#   BENCH_MEMORY_SUBSCRIBERS=1000000   the large customer of the peak memory
#                              figure (varied data, against 20,000)
#   BENCH_FETCH_SIZES="1000 5000 10000"   fetch sizes compared (full width,
#                              varied data); set to "" to skip the comparison
#   BENCH_OUT=FILE             also write the table (markdown) to FILE
#   BENCH_VERBOSE=1            print every raw measurement as it is taken
#   BENCH_PERF=1               profile the backend with perf (full-width scan and load)
#   BENCH_PARSER=pg-record|jsonc-record   the targets' floor (guessed from src/json.c
#                              and src/record_parser.c)
#   BENCH_SIM_CACHE_MB=2048    the simulator's cache of rendered chunks (0: its
#                              default, 64 MB of chunks up to 2 MB each)
#
# Everything (cluster, simulator, temporary files) is removed on exit.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RUNS=${BENCH_RUNS:-3}
N=${BENCH_SUBSCRIBERS:-200000}
NM=${BENCH_MEMORY_SUBSCRIBERS:-1000000}
FETCH_SIZES=${BENCH_FETCH_SIZES-1000 5000 10000}
VERBOSE=${BENCH_VERBOSE:-}

source "$ROOT/test/cluster.sh"

say() { printf '==> %s\n' "$*" >&2; }
cust() { printf 'cccccccc-0000-4000-8000-%012d' "$1"; }     # plain data
vcust() { printf 'cccccccc-0000-4000-9999-%012d' "$1"; }    # varied data

CUST_N=$(vcust "$N")
CUST_P=$(cust "$N")
CUST_M=$(vcust "$NM")
CUST_20K=$(cust 20000)
CUST_V20K=$(vcust 20000)
N_CHUNK=$(( N < 200000 ? N : 200000 ))

# the simulator keeps every rendered chunk (up to BENCH_SIM_CACHE_MB): the
# throughput customers are read once before the runs, so the runs measure
# the extension, not the simulator's rendering of the records
SIM_CACHE_MB=${BENCH_SIM_CACHE_MB:-2048}
sf_start_all --chunk-cache-mb "$SIM_CACHE_MB"
RAW="$SF_TMP/raw.txt"          # "figure value" lines, one per measurement
CMDS="$SF_TMP/commands.txt"    # the exact commands, printed at the end
: >"$RAW"
: >"$CMDS"
CLK_TCK=$(getconf CLK_TCK)
SO="$(pg_config --pkglibdir)/subscriber_fdw.so"
SO_SUM0=$(md5sum "$SO" | cut -d' ' -f1)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
SIM_PID=$SF_SIM_PID

# ---------------------------------------------------------------- the floor
say "building bench/floor.c"
FLOOR="$SF_TMP/floor"
PGLIB=/usr/lib/postgresql/15/lib
FLOOR_PG=no
if gcc -O2 -DWITH_PG_JSON -I"$(pg_config --includedir-server)" -o "$FLOOR" "$BENCH_DIR/floor.c" \
	-L"$PGLIB" -lpgcommon -lpgport -lcurl -ljson-c -lpthread -lm 2>"$SF_TMP/floor-pg.log"; then
	FLOOR_PG=yes
	echo "gcc -O2 -DWITH_PG_JSON -I$(pg_config --includedir-server) -o floor bench/floor.c -L$PGLIB -lpgcommon -lpgport -lcurl -ljson-c -lpthread -lm" >>"$CMDS"
else
	say "pg_parse_json floor not linkable (see below); building without it"
	cat "$SF_TMP/floor-pg.log" >&2
	gcc -O2 -o "$FLOOR" "$BENCH_DIR/floor.c" -lcurl -ljson-c -lpthread
	echo "gcc -O2 -o floor bench/floor.c -lcurl -ljson-c -lpthread" >>"$CMDS"
fi
FLOOR_MODES="fetch scan jsonc-record jsonc-chunk"
[ "$FLOOR_PG" = yes ] && FLOOR_MODES="$FLOOR_MODES pg-record pg-chunk"

# The floor the count(*) and full-width targets are measured against: the
# issue's, libcurl + pg_parse_json one record at a time (pg-record), unless
# the extension reads its records with json-c (then jsonc-record).  The
# extension's own record parser falls back on PostgreSQL's JSON lexer.
# (BENCH_PARSER=pg-record or jsonc-record overrides the guess.)
if [ -n "${BENCH_PARSER:-}" ]; then
	EXT_PARSER=$BENCH_PARSER
elif grep -qE 'pg_parse_json|JsonLexContext' "$ROOT"/src/json.c "$ROOT"/src/record_parser.c 2>/dev/null; then
	EXT_PARSER=pg-record
else
	EXT_PARSER=jsonc-record
fi

# ---------------------------------------------------------------- helpers
record() { # figure value
	echo "$1 $2" >>"$RAW"
	[ -n "$VERBOSE" ] && say "  $1 = $2"
	return 0
}

sim_ticks() { awk '{print $14 + $15}' "/proc/$SIM_PID/stat"; }
sim_stat() { curl -s "$SIM_URL/_sim/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)

# Runs SQL in a fresh connection, timed with psql's \timing; records
# <figure>.ms, <figure>.hwm_kb (the backend's VmHWM after the query),
# <figure>.cpu (backend CPU seconds) and <figure>.sim_cpu (simulator CPU
# seconds) -- and echoes the query's own output.
timed() { # figure sql
	local fig=$1 sql=$2 out s0 s1
	echo "psql -c \"$sql\"" >>"$CMDS"
	s0=$(sim_ticks)
	out=$("${PSQL[@]}" <<-EOF
		SELECT 'cpu0 ' || (split_part(pg_read_file('/proc/self/stat'), ' ', 14)::bigint
		                 + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::bigint);
		\timing on
		$sql;
		\timing off
		SELECT 'cpu1 ' || (split_part(pg_read_file('/proc/self/stat'), ' ', 14)::bigint
		                 + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::bigint);
		SELECT 'hwm ' || (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s*(\d+)'))[1];
	EOF
	)
	s1=$(sim_ticks)
	local ms c0 c1 hwm
	ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
	c0=$(sed -n 's/^cpu0 //p' <<<"$out")
	c1=$(sed -n 's/^cpu1 //p' <<<"$out")
	hwm=$(sed -n 's/^hwm //p' <<<"$out")
	record "$fig.ms" "$ms"
	record "$fig.hwm_kb" "$hwm"
	record "$fig.cpu" "$(awk -v a="$c0" -v b="$c1" -v t="$CLK_TCK" 'BEGIN{print (b-a)/t}')"
	record "$fig.sim_cpu" "$(awk -v a="$s0" -v b="$s1" -v t="$CLK_TCK" 'BEGIN{print (b-a)/t}')"
	grep -v -e '^Time: ' -e '^cpu[01] ' -e '^hwm ' <<<"$out" || true
}

floor() { # data(v|p) mode customer fetch_size
	local data=$1 mode=$2 c=$3 fs=$4 out s0 s1
	s0=$(sim_ticks)
	out=$("$FLOOR" "$mode" "$SIM_URL" "$c" "$fs")
	s1=$(sim_ticks)
	local key="floor.$data.$mode.$fs"
	record "$key.rps" "$(sed 's/.* records_per_s=\([0-9.]*\).*/\1/' <<<"$out")"
	record "$key.parse_rps" "$(sed 's/.* parse_records_per_s=\([0-9.]*\).*/\1/' <<<"$out")"
	record "$key.parse_mbps" "$(sed 's/.* parse_mb_per_s=\([0-9.]*\).*/\1/' <<<"$out")"
	record "$key.mbps" "$(sed 's/.* mb_per_s=\([0-9.]*\).*/\1/' <<<"$out")"
	record "$key.wall" "$(sed 's/.* wall_s=\([0-9.]*\).*/\1/' <<<"$out")"
	record "$key.cpu_rps" "$(awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}
		print v["records"] / (v["parse_cpu_s"] + v["fetch_cpu_s"])}' <<<"$out")"
	record "$key.sim_cpu" "$(awk -v a="$s0" -v b="$s1" -v t="$CLK_TCK" 'BEGIN{print (b-a)/t}')"
}

# ---------------------------------------------------------------- set-up
say "creating servers and foreign tables"
"${PSQL[@]}" -v sim_url="$SIM_URL" -v sim_d300="$SIM_URL/_fault/delay=300" \
	-v sim_d200="$SIM_URL/_fault/delay=200" <<'SQL'
CREATE EXTENSION subscriber_fdw;
CREATE SERVER bench FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_url', tenant 'acme', fetch_size '10000');
CREATE SERVER bench_d300 FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_d300', tenant 'acme', fetch_size '1000');
CREATE SERVER bench_d200 FOREIGN DATA WRAPPER subscriber_fdw
  OPTIONS (base_url :'sim_d200', tenant 'acme', max_concurrency '8');
CREATE USER MAPPING FOR CURRENT_USER SERVER bench OPTIONS (username 'sim', password 'sim-secret');
CREATE USER MAPPING FOR CURRENT_USER SERVER bench_d300 OPTIONS (username 'sim', password 'sim-secret');
CREATE USER MAPPING FOR CURRENT_USER SERVER bench_d200 OPTIONS (username 'sim', password 'sim-secret');
CREATE SCHEMA b;     IMPORT FOREIGN SCHEMA api FROM SERVER bench INTO b;
CREATE SCHEMA d300;  IMPORT FOREIGN SCHEMA api FROM SERVER bench_d300 INTO d300;
CREATE SCHEMA d200;  IMPORT FOREIGN SCHEMA api FROM SERVER bench_d200 INTO d200;
-- the same latency-hiding scan without the delay
CREATE SCHEMA d0;    IMPORT FOREIGN SCHEMA api LIMIT TO (subscriber_details) FROM SERVER bench INTO d0;
ALTER FOREIGN TABLE d0.subscriber_details OPTIONS (ADD fetch_size '1000');
SQL
# count(*) measures the record path here, not the API's totals (those are
# bench/count.sh's): count_pushdown is off where the extension has it (its
# validator refuses an option it does not know)
if "${PSQL[@]}" -c "ALTER SERVER bench OPTIONS (ADD count_pushdown 'false')" 2>/dev/null; then
	COUNT_PUSHDOWN="set to 'false' on the bench server"
else
	COUNT_PUSHDOWN="not an option of this build"
fi
for fs in $FETCH_SIZES; do
	[ "$fs" = 10000 ] && continue     # the main figures' table
	"${PSQL[@]}" <<-SQL
		CREATE SCHEMA fs$fs;
		IMPORT FOREIGN SCHEMA api LIMIT TO (subscriber_details) FROM SERVER bench INTO fs$fs;
		ALTER FOREIGN TABLE fs$fs.subscriber_details OPTIONS (ADD fetch_size '$fs');
	SQL
done

q_count() { echo "SELECT count(*) FROM b.subscriber_details WHERE customer_id = '$1'"; }
q_full() { echo "COPY (SELECT * FROM b.subscriber_details WHERE customer_id = '$1') TO '/dev/null'"; }
q_narrow() { echo "COPY (SELECT subscriber_id, active_msisdn FROM b.subscriber_details WHERE customer_id = '$1') TO '/dev/null'"; }
Q_COUNT=$(q_count "$CUST_N")
Q_FULL=$(q_full "$CUST_N")
Q_NARROW=$(q_narrow "$CUST_N")
Q_COUNT_20K=$(q_count "$CUST_V20K")
# the load: CREATE TABLE AS from the API against COPY FROM a local file of
# the same rows (written once, by the server, before the runs)
COPY_FILE="$SF_TMP/varied.copy"
Q_CTAS="CREATE UNLOGGED TABLE load_api AS SELECT * FROM b.subscriber_details WHERE customer_id = '$CUST_N'"
Q_COPY_FROM="COPY load_file FROM '$COPY_FILE'"
Q_LAT="COPY (SELECT * FROM d300.subscriber_details WHERE customer_id = '$CUST_20K') TO '/dev/null'"
Q_LAT0="COPY (SELECT * FROM d0.subscriber_details WHERE customer_id = '$CUST_20K') TO '/dev/null'"
MSISDNS=$(python3 -c "print(','.join('9900%08d' % (1000 + 37 * k) for k in range(32)))")
Q_FAN="SELECT count(*) FROM d200.subscriber_sessions WHERE msisdn = ANY('{$MSISDNS}'::text[])"
Q_LIMIT="SELECT * FROM b.subscriber_details WHERE customer_id = '$CUST_N' LIMIT 10"

# chunk bytes at fetch_size 10000, from EXPLAIN (ANALYZE)
say "chunk size (EXPLAIN ANALYZE)"
echo "psql -c \"EXPLAIN (ANALYZE) $Q_COUNT_20K\"" >>"$CMDS"
EXPL=$("${PSQL[@]}" -c "EXPLAIN (ANALYZE, COSTS OFF) $Q_COUNT_20K")
CHUNK_REQ=$(sed -n 's/.*Requests: \([0-9]*\).*/\1/p' <<<"$EXPL" | head -1)
CHUNK_BYTES=$(sed -n 's/.*Bytes Received: \([0-9]*\).*/\1/p' <<<"$EXPL" | head -1)
[ -n "$VERBOSE" ] && echo "$EXPL" >&2
record chunk.requests "${CHUNK_REQ:-0}"
record chunk.bytes_received "${CHUNK_BYTES:-0}"

say "writing $N varied rows to $COPY_FILE"
echo "psql -c \"COPY (SELECT * FROM b.subscriber_details WHERE customer_id = '$CUST_N') TO '$COPY_FILE'\"" >>"$CMDS"
"${PSQL[@]}" -c "COPY (SELECT * FROM b.subscriber_details WHERE customer_id = '$CUST_N') TO '$COPY_FILE'" >/dev/null
"${PSQL[@]}" -c "CREATE UNLOGGED TABLE load_like (LIKE b.subscriber_details)"
# the plain throughput customer read once too, so that the simulator's
# cache holds both before the runs
"${PSQL[@]}" -c "$(q_count "$CUST_P")" >/dev/null
# md5 of every row, in order, of a table loaded from the varied data
rows_md5() { "${PSQL[@]}" -c "SELECT md5(string_agg(t::text, E'\n' ORDER BY subscriber_id)) FROM $1 t"; }

# ---------------------------------------------------------------- measure
for run in $(seq 1 "$RUNS"); do
	say "run $run of $RUNS ($N subscribers)"

	# 1. floors, of both data sets
	# (the whole-chunk parsers, far from the record path, over at most
	# 200,000 subscribers to keep the run short)
	for data in v p; do
		for mode in $FLOOR_MODES; do
			if [ $data = v ]; then c=$CUST_N; cc=$(vcust "$N_CHUNK"); else c=$CUST_P; cc=$(cust "$N_CHUNK"); fi
			case $mode in *-chunk) c=$cc ;; esac
			[ "$run" = 1 ] && echo "floor $mode $SIM_URL $c 10000" >>"$CMDS"
			floor $data "$mode" "$c" 10000
		done
	done

	# 2., 3. throughput at fetch_size 10000, varied data, then plain data
	timed count "$Q_COUNT" >/dev/null
	timed full "$Q_FULL" >/dev/null
	timed narrow "$Q_NARROW" >/dev/null
	timed pcount "$(q_count "$CUST_P")" >/dev/null
	timed pfull "$(q_full "$CUST_P")" >/dev/null
	timed pnarrow "$(q_narrow "$CUST_P")" >/dev/null

	# 9. loading a table: from the API, and from a local file of the same rows
	"${PSQL[@]}" -c "DROP TABLE IF EXISTS load_api, load_file" -c "CREATE UNLOGGED TABLE load_file (LIKE load_like)"
	timed ctas "$Q_CTAS" >/dev/null
	timed copy_from "$Q_COPY_FROM" >/dev/null
	record api_rows "$("${PSQL[@]}" -c 'SELECT count(*) FROM load_api')"
	record file_rows "$("${PSQL[@]}" -c 'SELECT count(*) FROM load_file')"
	record api_md5 "$(rows_md5 load_api)"
	record file_md5 "$(rows_md5 load_file)"

	# 8. peak memory, varied data: 20,000 against BENCH_MEMORY_SUBSCRIBERS
	timed count20k "$Q_COUNT_20K" >/dev/null
	timed full20k "$(q_full "$CUST_V20K")" >/dev/null
	timed countM "$(q_count "$CUST_M")" >/dev/null
	timed fullM "$(q_full "$CUST_M")" >/dev/null

	# 4. latency hiding
	timed lat "$Q_LAT" >/dev/null
	timed lat0 "$Q_LAT0" >/dev/null

	# 5. fan-out
	timed fan "$Q_FAN" >/dev/null

	# 6. LIMIT 10: requests seen and size sent
	r0=$(sim_stat requests)
	timed limit "$Q_LIMIT" >/dev/null
	curl -s "$SIM_URL/_sim/log?since=$r0" | python3 -c '
import json, sys
log = json.load(sys.stdin)
sizes = set()
for e in log:
    try:
        sizes.add(json.loads(e["body"]).get("size"))
    except Exception:
        pass
print(len(log), ",".join(str(s) for s in sorted(sizes, key=str)) or "-")' >"$SF_TMP/limit.txt"
	record limit.requests "$(cut -d' ' -f1 "$SF_TMP/limit.txt")"
	record limit.size "$(cut -d' ' -f2 "$SF_TMP/limit.txt")"

	# 7. 200 small queries in one session: new TCP connections
	c0=$(sim_stat connections)
	python3 -c "
for k in range(200):
    print(\"SELECT count(*) FROM b.subscriber_sessions WHERE msisdn = '9900%08d';\" % (5000 + k))" >"$SF_TMP/small.sql"
	[ "$run" = 1 ] && echo "psql -f small.sql   # 200 x: SELECT count(*) FROM b.subscriber_sessions WHERE msisdn = '9900000050NN'" >>"$CMDS"
	t0=$(date +%s.%N)
	"${PSQL[@]}" -f "$SF_TMP/small.sql" >/dev/null
	t1=$(date +%s.%N)
	c1=$(sim_stat connections)
	record small.connections "$((c1 - c0))"
	record small.ms "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print (b-a)*1000}')"

	# fetch_size comparison (full width; 10000 is figure 2)
	for fs in $FETCH_SIZES; do
		[ "$fs" = 10000 ] && continue
		timed "fs$fs.full" "COPY (SELECT * FROM fs$fs.subscriber_details WHERE customer_id = '$CUST_N') TO '/dev/null'" >/dev/null
	done
done

# ---------------------------------------------------------------- profile
# BENCH_PERF=1: where the backend's time goes in the full-width scan and in
# the load (CREATE TABLE AS), both of the varied data.
perf_profile() { # title sql
	local title=$1 sql=$2
	say "perf profile: $title"
	rm -f "$SF_TMP/bpid" "$SF_TMP/perf.data"
	"${PSQL[@]}" >/dev/null <<-EOF &
		SELECT pg_backend_pid() \g $SF_TMP/bpid
		SELECT pg_sleep(1);
		$sql;
	EOF
	PSQL_BG=$!
	for _ in $(seq 1 50); do [ -s "$SF_TMP/bpid" ] && break; sleep 0.1; done
	echo
	if [ -s "$SF_TMP/bpid" ] && perf record -q -g -p "$(cat "$SF_TMP/bpid")" -o "$SF_TMP/perf.data" >/dev/null 2>&1; then
		wait "$PSQL_BG" || true
		echo "perf record -g -p <backend> during: $sql"
		echo "-- by shared object (self time)"
		perf report -i "$SF_TMP/perf.data" --no-children --sort dso -g none 2>/dev/null | grep '%' | grep -v '^#' | sed 's/[[:space:]-]*$//' | head -8 || true
		echo "-- by function (self time)"
		perf report -i "$SF_TMP/perf.data" --no-children --sort symbol -g none 2>/dev/null | grep '%' | grep -v '^#' | sed 's/[[:space:]-]*$//' | head -25 || true
		echo "-- by function (with callees)"
		perf report -i "$SF_TMP/perf.data" --children --sort symbol -g none 2>/dev/null | grep '%' | grep -v '^#' |
			grep -v ' 0x0000' | sed 's/[[:space:]-]*$//' | head -40 || true
	else
		wait "$PSQL_BG" || true
		echo "perf record did not work here ($title)"
	fi
}
if [ -n "${BENCH_PERF:-}" ] && command -v perf >/dev/null 2>&1; then
	{
		perf_profile "full-width scan" "$Q_FULL"
		"${PSQL[@]}" -c "DROP TABLE IF EXISTS load_api"
		perf_profile "load (CREATE TABLE AS)" "$Q_CTAS"
	} >"$SF_TMP/perf.txt"
fi

# ---------------------------------------------------------------- report
say "machine details"
{
	echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "nproc $(nproc)"
	echo "cpu $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "mem $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo)"
	echo "load $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
	if [ "$(md5sum "$SO" | cut -d' ' -f1)" != "$SO_SUM0" ]; then
		echo "so_changed yes"
	else
		echo "so_changed no"
	fi
	echo "postgres $("${PSQL[@]}" -c 'SHOW server_version')"
	echo "libcurl $(curl-config --version 2>/dev/null | sed 's/libcurl //' || echo '?')"
	echo "jsonc $(pkg-config --modversion json-c 2>/dev/null || dpkg-query -W -f='${Version}' libjson-c5 2>/dev/null || echo '?')"
	echo "python $(python3 -c 'import platform; print(platform.python_version())')"
	echo "kernel $(uname -r)"
	echo "default_fetch_size $(sed -n 's/^#define DEFAULT_FETCH_SIZE[[:space:]]*\([0-9]*\).*/\1/p' "$ROOT/src/option.c")"
	echo "ext_parser $EXT_PARSER"
	echo "floor_pg $FLOOR_PG"
	echo "fetch_sizes $FETCH_SIZES"
	echo "count_pushdown $COUNT_PUSHDOWN"
	echo "memory_n $NM"
	echo "sim_cache_mb $SIM_CACHE_MB"
} >"$SF_TMP/machine.txt"

python3 - "$RAW" "$SF_TMP/machine.txt" "$N" "$RUNS" "${BENCH_OUT:-}" <<'PY'
import statistics, sys, collections

raw, machine_file, N, runs, out_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
nchunk = min(N, 200000)
vals = collections.defaultdict(list)
for line in open(raw):
    k, _, v = line.strip().partition(" ")
    try:
        vals[k].append(float(v))
    except ValueError:
        vals[k].append(v)
mach = {}
for line in open(machine_file):
    k, _, v = line.rstrip("\n").partition(" ")
    mach[k] = v

def med(k):
    v = [x for x in vals.get(k, []) if isinstance(x, float)]
    return statistics.median(v) if v else None

def strs(k):
    return sorted(set(str(int(x)) if isinstance(x, float) and x == int(x) else str(x)
                      for x in vals.get(k, [])))

def rate(fig, n=N):
    ms = med(fig + ".ms")
    return n / (ms / 1000) if ms else None

def fmt(x, nd=0):
    if x is None:
        return "n/a"
    if nd == 0:
        return f"{x:,.0f}"
    return f"{x:,.{nd}f}"

def verdict(ok):
    return "n/a" if ok is None else ("pass" if ok else "MISS")

rows = []   # (figure, value, target, verdict)
ext = mach["ext_parser"]
DATA = {"v": "varied data", "p": "plain data"}
fl = lambda m, what="rps", d="v": med(f"floor.{d}.{m}.10000.{what}")

def ratio(a, b):
    return a / b if a is not None and b else None

def cpu_rate(fig, n=N):
    c = med(fig + ".cpu")
    return n / c if c else None

def cpu_note(fig):
    ms = med(fig + ".ms"); c = med(fig + ".cpu"); s = med(fig + ".sim_cpu")
    if not ms or c is None or s is None:
        return ""
    return f"; backend CPU {100*c/(ms/1000):.0f}% of wall, simulator CPU {100*s/(ms/1000):.0f}%"

# 1. floors, of each data set
for d in ("v", "p"):
    for m, label in [("fetch", "libcurl only (count by recordAmount)"),
                     ("scan", "libcurl + structural scan of records (what count(*) needs at least)"),
                     ("jsonc-record", "(a) libcurl + json-c, one record at a time"),
                     ("jsonc-chunk", f"(b) libcurl + json-c, whole chunk (over {nchunk:,} subscribers)"),
                     ("pg-record", "(c) libcurl + pg_parse_json, one record at a time"),
                     ("pg-chunk", f"(c') libcurl + pg_parse_json, whole chunk (over {nchunk:,} subscribers)")]:
        if fl(m, d=d) is None:
            if m.startswith("pg"):
                rows.append((f"1. {DATA[d]}: floor {label}", "not built (libpgcommon not linkable)", "", "n/a"))
            continue
        parts = [f"{fmt(fl(m, d=d))} rec/s ({fmt(fl(m,'mbps',d),1)} MB/s)"]
        if m != "fetch":
            parts.append(f"parser alone {fmt(fl(m,'parse_rps',d))} rec/s = {fmt(fl(m,'parse_mbps',d),1)} MB/s per CPU-s")
        parts.append(f"{fmt(fl(m,'cpu_rps',d))} rec per CPU-s of the program")
        sim = fl(m, "sim_cpu", d); wall = fl(m, "wall", d)
        if sim is not None and wall:
            parts.append(f"simulator CPU {100*sim/wall:.0f}% of wall")
        rows.append((f"1. {DATA[d]}: floor {label}", "; ".join(parts), "", ""))

def vs_floors(r, fig, d):
    fe, fj, ff = fl(ext, d=d), fl("jsonc-record", d=d), fl("fetch", d=d)
    parts = [f"{fmt(ratio(r, fe),2)} x {ext} floor"]
    if ext != "jsonc-record":
        parts.append(f"{fmt(ratio(r, fj),2)} x jsonc-record floor")
    parts.append(f"{fmt(ratio(r, ff),2)} x fetch-only floor")
    cr = cpu_rate(fig)
    parts.append(f"{fmt(cr)} rows per backend CPU-s = {fmt(ratio(cr, fl(ext, 'cpu_rps', d)),2)} x the {ext} floor's per CPU-s")
    return ", ".join(parts)

# 2., 3. count(*), full width, narrow: the varied data against the targets of
# issue 15; the plain data against those of issue 7, for comparison
for d, pre, full_factor, jc_factor in (("v", "", 0.6, None), ("p", "p", 0.5, 1.25)):
    fe, fj = fl(ext, d=d), fl("jsonc-record", d=d)
    r_count, r_full, r_narrow = rate(pre + "count"), rate(pre + "full"), rate(pre + "narrow")
    rc = ratio(r_count, fe)
    rows.append((f"2. {DATA[d]}: count(*), fetch_size 10000",
                 f"{fmt(r_count)} rows/s = {vs_floors(r_count, pre + 'count', d)}{cpu_note(pre + 'count')}",
                 f">= 0.8 x {ext} floor", verdict(None if rc is None else rc >= 0.8)))
    if jc_factor is None:
        target = f">= {full_factor} x {ext} floor"
        ok = None if r_full is None or not fe else r_full >= full_factor * fe
    else:
        target = f">= {full_factor} x {ext} floor and >= {jc_factor} x jsonc-record floor"
        ok = (None if r_full is None or not fe or not fj else
              (r_full >= full_factor * fe and r_full >= jc_factor * fj))
    rows.append((f"2. {DATA[d]}: full width (COPY (SELECT *) TO '/dev/null'), fetch_size 10000",
                 f"{fmt(r_full)} rows/s = {vs_floors(r_full, pre + 'full', d)}{cpu_note(pre + 'full')}",
                 target, verdict(ok)))
    rn = ratio(r_narrow, r_full)
    rows.append((f"3. {DATA[d]}: narrow (COPY (SELECT subscriber_id, active_msisdn) TO '/dev/null')",
                 f"{fmt(r_narrow)} rows/s = {fmt(rn,2)} x full width; {fmt(cpu_rate(pre + 'narrow'))} rows per backend CPU-s"
                 f" = {fmt(ratio(cpu_rate(pre + 'narrow'), cpu_rate(pre + 'full')),2)} x full width's{cpu_note(pre + 'narrow')}",
                 ">= 1.5 x full width", verdict(None if rn is None else rn >= 1.5)))
# 4. latency hiding
lat, lat0 = med("lat.ms"), med("lat0.ms")
if lat is not None and lat0 is not None:
    bound = 1.15 * max(20 * 300, lat0) + 300
    rows.append(("4. latency hiding: 20 chunks of 1000 (20,000 subscribers), +300 ms each, full width",
                 f"{lat/1000:.2f} s (without the delay {lat0/1000:.2f} s)",
                 f"<= 1.15 x max(6.00, {lat0/1000:.2f}) + 0.30 = {bound/1000:.2f} s", verdict(lat <= bound)))
# 5. fan-out
fan = med("fan.ms")
rows.append(("5. fan-out: 32 msisdns, +200 ms each, max_concurrency 8",
             f"{fan/1000:.2f} s" if fan else "n/a", "< 1.3 s", verdict(None if fan is None else fan < 1300)))
# 6. LIMIT 10
lr = med("limit.requests")
rows.append(("6. LIMIT 10: requests seen by the simulator, size sent",
             f"{fmt(lr)} request(s), size {'/'.join(strs('limit.size'))} ({fmt(med('limit.ms'),1)} ms)",
             "1 request, size 10",
             verdict(None if lr is None else (lr == 1 and strs('limit.size') == ['10']))))
# 7. connections
sc = med("small.connections")
rows.append(("7. 200 small queries in one session: new TCP connections",
             f"{fmt(sc)} ({fmt(med('small.ms'))} ms in all)", "<= 2", verdict(None if sc is None else sc <= 2)))
# 8. memory
cb = med("chunk.bytes_received"); cr = med("chunk.requests")
chunk = cb / cr if cb and cr else None
limit_kb = (3 * chunk / 1024 + 64 * 1024) if chunk else None
NM = int(mach["memory_n"])
for q in ("count", "full"):
    small, big = med(f"{q}20k.hwm_kb"), med(f"{q}M.hwm_kb")
    if small is None or big is None:
        continue
    diff = abs(big - small) / small
    ok = diff < 0.10 and limit_kb is not None and max(small, big) < limit_kb
    rows.append((f"8. varied data: peak memory (VmHWM), {'count(*)' if q == 'count' else 'full width'}, fetch_size 10000: 20,000 vs {NM:,}",
                 f"{small/1024:.1f} MB vs {big/1024:.1f} MB (differ {100*diff:.1f}%)",
                 f"differ < 10%, both < 3 x {chunk/1e6:.1f} MB chunk + 64 MB = {limit_kb/1024:.0f} MB" if chunk else "n/a",
                 verdict(ok)))
# 9. loading a table
ctas, cfrom = med("ctas.ms"), med("copy_from.ms")
lr = ratio(cfrom, ctas)
same = (strs("api_md5") == strs("file_md5") and len(strs("api_md5")) == 1 and
        strs("api_rows") == strs("file_rows") == [str(N)])
rows.append((f"9. varied data: load {N:,} rows into an unlogged table: CREATE TABLE AS SELECT * from the API (fetch_size 10000)"
             f" against COPY FROM a local file of the same rows",
             (f"API {ctas/1000:.2f} s ({fmt(rate('ctas'))} rows/s, backend CPU {fmt(med('ctas.cpu'),2)} s), "
              f"COPY FROM {cfrom/1000:.2f} s ({fmt(rate('copy_from'))} rows/s, backend CPU {fmt(med('copy_from.cpu'),2)} s): "
              f"the API loads {fmt(lr,2)} x as fast") if ctas and cfrom else "n/a",
             ">= 1.1 x as fast as COPY FROM", verdict(None if lr is None else lr >= 1.1)))
rows.append(("9. the two tables hold the same rows (count and md5 of every row in subscriber_id order, every run)",
             f"{'/'.join(strs('api_rows'))} rows, md5 {'/'.join(strs('api_md5'))}"
             + ("" if same else f" against {'/'.join(strs('file_rows'))} rows, md5 {'/'.join(strs('file_md5'))}"),
             "identical", verdict(same)))
# fetch_size comparison
for fs in mach.get("fetch_sizes", "").split():
    fig = "full" if fs == "10000" else f"fs{fs}.full"
    rows.append((f"varied data, fetch_size {fs}: full width",
                 f"{fmt(rate(fig))} rows/s, {fmt(cpu_rate(fig))} rows per backend CPU-s, "
                 f"peak memory {fmt((med(fig + '.hwm_kb') or 0)/1024,1)} MB{cpu_note(fig)}",
                 f"(information: the default fetch_size is {mach.get('default_fetch_size','?')})", ""))

head = [
    f"- date: {mach['date']}",
    f"- machine: {mach['nproc']} cores, {mach['cpu']}, {mach['mem']} RAM, Linux {mach['kernel']}; load average {mach['load']}",
    f"- PostgreSQL {mach['postgres']}, libcurl {mach['libcurl']}, json-c {mach['jsonc']}, simulator on Python {mach['python']}",
    f"- {N:,} subscribers per throughput customer, median of {runs} run(s); the targets' floor: {ext}",
    f"- the simulator keeps up to {mach.get('sim_cache_mb', '?')} MB of rendered chunks (--chunk-cache-mb): a customer's "
    "second and later scans, floors included, are served from memory",
    "- main data set: the simulator's varied family (every quirk of the API in a share of the records, see "
    "test/simulator.py); plain data: the family of the earlier benchmarks, for comparison",
    f"- count_pushdown: {mach['count_pushdown']}",
    "- rates are wall-clock; 'per CPU-s' divides by the CPU time the backend (or the floor program) used, "
    "which is steadier than wall time on a shared machine",
]
if mach.get("so_changed") == "yes":
    head.append("- WARNING: the installed subscriber_fdw.so changed during the run (another build installed it); "
                "later figures may be of another version")
table = ["| figure | measured | target | result |", "|---|---|---|---|"]
for r in rows:
    table.append("| " + " | ".join(s.replace("|", "\\|") for s in r) + " |")
text = "\n".join(head) + "\n\n" + "\n".join(table) + "\n"
rawtxt = ["", "Raw measurements (one value per run; ms = wall time, hwm_kb = VmHWM, cpu = CPU seconds):", ""]
for k in sorted(vals):
    rawtxt.append(f"    {k}: " + " ".join(str(int(x)) if isinstance(x, float) and x == int(x) else str(x) for x in vals[k]))
text += "\n".join(rawtxt) + "\n"
print()
print(text)
if out_path:
    open(out_path, "w").write(text)
PY

echo
echo "Commands (SIM_URL=$SIM_URL; floor = bench/floor.c built as below):"
awk '!seen[$0]++' "$CMDS" | sed 's/^/  /'
if [ -s "$SF_TMP/perf.txt" ]; then
	echo
	cat "$SF_TMP/perf.txt"
fi
