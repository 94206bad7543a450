# pg_migrate: PGXS build.
#
#   make && make install        build and install into the server found by pg_config
#   make installcheck           pg_regress tests (sql/), isolation specs (test/isolation)
#                               and TAP tests (test/t) against a running server
#   test/run                    everything, from a clean clone, as root or not (see README)

EXTENSION = pg_migrate
MODULE_big = pg_migrate
OBJS = \
	src/pg_migrate.o \
	src/catalog.o \
	src/catalog_graph.o \
	src/catalog_plan.o \
	src/alembic.o \
	src/graph.o \
	src/graph_order.o \
	src/identifier.o \
	src/plan.o \
	src/run.o \
	src/step.o \
	src/run_log.o \
	src/bgtask.o \
	src/nontx.o \
	src/lock.o \
	src/entry.o \
	src/watchdog.o \
	src/settings.o \
	src/managed_schemas.o \
	src/fn_apply.o \
	src/sql_check.o \
	src/offline.o \
	src/srf_util.o \
	src/fn_graph_check.o \
	src/fn_register.o \
	src/fn_migrate.o \
	src/fn_inspect.o \
	src/fn_graph.o \
	src/schema_model.o \
	src/fn_schema.o \
	src/catalog_verify.o \
	src/fn_verify.o \
	src/stairway.o \
	src/fn_check.o \
	src/hazards.o \
	src/rehearse.o \
	src/fn_rehearse.o \
	src/fn_guard.o \
	src/fn_1_0.o

DATA = pg_migrate--1.0.sql pg_migrate--1.1.sql pg_migrate--1.0--1.1.sql
PGFILEDESC = "pg_migrate - schema migrations inside PostgreSQL"

REGRESS = setup registration graph graph_picture identifiers schema_model verify stairway rehearse ddl_guard rewrite_guard upgrade_downgrade offline register_any_order stamp_merge stamp_branches apply adopt \
	errors privileges search_path catalog_clash faults update_from_1_0

ISOLATION = serialize_migrators three_migrators concurrent_register readers_do_not_wait \
	graph_cache apply_locks
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation/output_iso

# TAP tests in test/t; prove_installcheck is redefined below to look there
TAP_TESTS = 1

PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS's prove_installcheck runs t/*.pl; as pgvector does, ours runs
# test/t/*.pl (or PROVE_TESTS=test/t/002_apply.pl ...).  make installcheck
# runs it after pg_regress and isolation (TAP_TESTS= leaves it out), make
# prove_installcheck alone.  Its nodes run initdb, which refuses root: as
# root, test/run runs the TAP tests as the postgres user.
ifeq ($(enable_tap_tests),yes)
define prove_installcheck
if [ "$$(id -u)" = 0 ]; then echo "TAP tests: initdb refuses root; run test/run, or make as another user" >&2; exit 1; fi && \
echo "+++ tap install-check +++" && \
rm -rf '$(CURDIR)'/tmp_check && \
$(MKDIR_P) '$(CURDIR)'/tmp_check && \
cd $(srcdir) && \
   TESTDIR='$(CURDIR)' PATH="$(bindir):$$PATH" \
   PGPORT='6$(DEF_PGPORT)' \
   PG_REGRESS='$(top_builddir)/src/test/regress/pg_regress' \
   $(PROVE) $(PG_PROVE_FLAGS) -I test/t $(PROVE_FLAGS) $(if $(PROVE_TESTS),$(PROVE_TESTS),test/t/*.pl)
endef
endif

.PHONY: prove_installcheck
prove_installcheck:
	$(prove_installcheck)


# Benchmarks (issue 5): installs the contenders, starts its own cluster and
# runs test/bench/run against the pg_migrate that is installed (builds only
# if none is).  Options: make bench BENCH_ARGS='--smoke' (see test/bench/README.md).
.PHONY: bench
bench:
	test/bench/run $(BENCH_ARGS)

# Long runs of the reliability harnesses (test/run runs a short one of each):
# make reliability FAULT_ARGS='--iterations 500' FUZZ_ARGS='--seconds 1800';
# --seed N reproduces a run.
FAULT_ARGS ?= --iterations 300
FUZZ_ARGS ?= --seconds 900
.PHONY: reliability
reliability:
	test/fault/run $(FAULT_ARGS)
	test/fuzz/run $(FUZZ_ARGS)

# PGXS tracks no header dependencies unless the server was configured with
# --enable-depend; the headers are few, so every object depends on all of them.
$(OBJS): $(wildcard $(srcdir)/src/*.h)
