# subscriber_fdw: PGXS build.  "make installcheck" runs the pg_regress suite
# against a running cluster; test/run_tests.sh sets up everything it needs.

MODULE_big = subscriber_fdw
OBJS = \
	src/batch_join.o \
	src/batch_join_plan.o \
	src/catalog.o \
	src/convert.o \
	src/count.o \
	src/envelope.o \
	src/foreign_scan.o \
	src/http_client.o \
	src/http_request.o \
	src/http_wait.o \
	src/json.o \
	src/known_sizes.o \
	src/option.o \
	src/pushdown.o \
	src/record_parser.o \
	src/request_error.o \
	src/scan.o \
	src/shared_state.o \
	src/subscriber_fdw.o \
	src/tuple.o

EXTENSION = subscriber_fdw
DATA = $(wildcard sql/subscriber_fdw--*.sql)
PGFILEDESC = "subscriber_fdw - foreign tables over a subscriber REST API"

REGRESS = setup validator customer_subscribers subscriber_details conversion subscriber_sessions pushdown count joins faults hostile recipes http_limits
REGRESS_OPTS = --load-extension=subscriber_fdw

PG_CPPFLAGS = -Isrc
PG_CFLAGS = -Wextra -Wno-unused-parameter
SHLIB_LINK = -lcurl -ljson-c

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The README's commands: every test, and the demo, on a throw-away cluster.
.PHONY: test demo bench
test:
	bash test/run_tests.sh
demo:
	bash test/demo.sh
bench:
	bash bench/run.sh
	bash bench/join.sh
	bash bench/count.sh
	bash bench/limits.sh

# every object depends on the one header
$(OBJS): src/subscriber_fdw.h

# The shared limits: overhead and the CPU of a waiting backend (bench/limits.sh),
# and a soak of 16 clients at max_requests_per_second 20 (bench/soak_limits.sh).
.PHONY: bench-limits soak-limits
bench-limits:
	bash bench/limits.sh
soak-limits:
	bash bench/soak_limits.sh
