# The background worker that runs a non-transactional step, under faults:
# terminated itself, or orphaned by the session that started it being
# terminated (reliability findings 005, 009 and 010).  The worker never
# outlives its session, no step runs twice, and the version state always
# matches what was applied.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use PgmTap;

my $node = PostgreSQL::Test::Cluster->new('faults');
$node->init;
$node->append_conf('postgresql.conf', "max_worker_processes = 16\n");
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub fresh
{
	sql(q{DROP EXTENSION IF EXISTS pg_migrate CASCADE; CREATE EXTENSION pg_migrate;
		DROP TABLE IF EXISTS runs, data CASCADE;});
}

my $workers = q{(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_migrate worker')};

# whether no pg_migrate worker is left within a second: a worker that
# outlives its session goes on with its step for seconds
sub workers_gone
{
	for (1 .. 20)
	{
		return 1 if sql("SELECT $workers") eq '0';
		select(undef, undef, undef, 0.05);
	}
	return 0;
}

# --- 005: the worker is terminated ------------------------------------------
fresh();
sql(q{SELECT migrate_revision('a1', NULL, 'SELECT pg_sleep(30)', 'SELECT 1', transactional => false)});
my $bg = background($node, q{CALL migrate_apply('head')});
$node->poll_query_until('postgres', "SELECT $workers = 1") or die 'the worker did not start';
sql(q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'pg_migrate worker'});
$bg->{h}->finish;
isnt($bg->{h}->result, 0, 'a terminated worker fails the call');
unlike(${ $bg->{err} }, qr/XX000|exited before finishing/, 'not as an internal error');
like(${ $bg->{err} }, qr/background worker was terminated before it finished.*upgrade of revision "a1"/s,
	'the error says what happened to the worker, and in which step');
is(sql(q{SELECT outcome || ':' || sqlstate FROM pgmigrate.migrate_log ORDER BY id DESC LIMIT 1}),
	'failed:57P01', 'the failure is logged with the worker\'s SQLSTATE');
is(sql(q{SELECT count(*) FROM migrate_current()}), '0', 'nothing is recorded as applied');

# --- 009: the session is terminated while its worker runs a step ------------
fresh();
sql(q{CREATE TABLE runs (at timestamptz);
	SELECT migrate_revision('a1', NULL, 'SELECT pg_sleep(4); INSERT INTO runs VALUES (clock_timestamp())',
							'SELECT 1', transactional => false);});
$bg = background($node, q{SET application_name = 'victim'}, q{CALL migrate_apply('head')});
$node->poll_query_until('postgres', "SELECT $workers = 1") or die 'the worker did not start';
sql(q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim'});
$bg->{h}->finish;
ok(workers_gone(), 'the worker does not outlive its session');
is(sql(q{SELECT running FROM migrate_status()}), 'f', 'the migration lock is free');
sql(q{CALL migrate_apply('head')});
is(sql(q{SELECT count(*) FROM runs}), '1', 'the next run applies the step once');
is(sql(q{SELECT string_agg(revision, ',') FROM migrate_current()}), 'a1', 'and records it');

# --- 010: a downgrade's session is terminated in a non-transactional step ---
fresh();
sql(q{CREATE TABLE data (id int, v text);
	INSERT INTO data SELECT g, md5(g::text) FROM generate_series(1, 10000) g;
	SELECT migrate_revision('i1', NULL, 'CREATE INDEX CONCURRENTLY IF NOT EXISTS data_v ON data (v)',
		'SELECT pg_sleep(3); DROP INDEX CONCURRENTLY IF EXISTS data_v', transactional => false);
	CALL migrate_apply('head');});
$bg = background($node, q{SET application_name = 'victim'}, q{CALL migrate_apply('base', downgrade => true)});
$node->poll_query_until('postgres', "SELECT $workers = 1") or die 'the worker did not start';
sql(q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim'});
$bg->{h}->finish;
ok(workers_gone(), 'the downgrade\'s worker does not outlive its session');
sleep(4);    # past the point where an orphaned worker would have dropped the index
is(sql(q{SELECT (SELECT count(*) FROM migrate_current()) = (SELECT count(*) FROM pg_class WHERE relname = 'data_v')}),
	't', 'the version state matches the index: applied if and only if it exists');
sql(q{CALL migrate_apply('head')});
is(sql(q{SELECT string_agg(revision, ',') FROM migrate_current()}), 'i1', 'an upgrade afterwards reaches i1');
is(sql(q{SELECT indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'data_v'}),
	't', 'with a valid index');

$node->stop;
done_testing();
