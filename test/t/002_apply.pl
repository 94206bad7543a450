# CALL migrate_apply in production conditions: what a killed backend and a
# crashed server leave behind, a step that waits for a lock until its
# blocker leaves, concurrent index builds under writes, a failed concurrent
# build and its retry, and eight overlapping runs.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use PgmTap;

my $node = PostgreSQL::Test::Cluster->new('apply');
$node->init;
$node->append_conf('postgresql.conf', "max_worker_processes = 16\nmax_locks_per_transaction = 256\n");
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub fresh
{
	sql(q{DROP EXTENSION IF EXISTS pg_migrate CASCADE; CREATE EXTENSION pg_migrate;
		DROP TABLE IF EXISTS t1, t2, t3, counter, target, writes CASCADE;});
}

# --- a backend killed in the middle of a step -------------------------------
fresh();
sql(q{SELECT migrate_revision('r1', NULL, 'CREATE TABLE t1 (id int)', 'DROP TABLE t1', 'one');
	SELECT migrate_revision('r2', 'r1', 'CREATE TABLE t2 (id int); SELECT pg_sleep(60)', 'DROP TABLE t2', 'slow');});
my $bg = background($node, q{SET application_name = 'killme'}, q{CALL migrate_apply('head')});
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'killme' AND wait_event = 'PgSleep'})
  or die "the step did not start";
like(sql(q{SELECT activity FROM migrate_status()}), qr/pg_migrate: upgrade to r2 \(step 2 of 2\)/,
	'migrate_status() shows the running step');
sql(q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'killme'});
$bg->{h}->finish;
is(sql(q{SELECT string_agg(revision, ',') FROM migrate_current()}), 'r1',
	'killed mid-step: the version state has the committed step only');
is(sql(q{SELECT count(*) FROM pg_class WHERE relname = 't2'}), '0', 'the killed step left nothing');
is(sql(q{SELECT string_agg(revision || ':' || outcome, ',' ORDER BY id) FROM pgmigrate.migrate_log}),
	'r1:started,r1:success,r2:started', 'the log shows the cut-short attempt as started only');
is(sql(q{SELECT running FROM migrate_status()}), 'f', 'the lock went with the backend');
sql(q{SELECT migrate_revision('r2b', 'r1', 'CREATE TABLE t2 (id int)', 'DROP TABLE t2', 'fast')});
sql(q{CALL migrate_apply('r2b')});
is(sql(q{SELECT string_agg(revision, ',') FROM migrate_current()}), 'r2b', 'the next run goes on');

# --- the server stopped in immediate mode in the middle of a step ------------
fresh();
sql(q{SELECT migrate_revision('r1', NULL, 'CREATE TABLE t1 (id int)', 'DROP TABLE t1', 'one');
	SELECT migrate_revision('r2', 'r1', 'CREATE TABLE t2 (id int); SELECT pg_sleep(60)', 'DROP TABLE t2', 'slow');});
$bg = background($node, q{SET application_name = 'crashme'}, q{CALL migrate_apply('head')});
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'crashme' AND wait_event = 'PgSleep'})
  or die "the step did not start";
$node->stop('immediate');
$bg->{h}->finish;
$node->start;
is(sql(q{SELECT string_agg(revision, ',') FROM migrate_current()}), 'r1',
	'after a crash mid-step the version state has the committed step only');
is(sql(q{SELECT string_agg(revision || ':' || outcome, ',' ORDER BY id) FROM pgmigrate.migrate_log}),
	'r1:started,r1:success,r2:started', 'and the log is truthful');
is(sql(q{SELECT count(*) FROM pg_class WHERE relname = 't2'}), '0', 'the crashed step left nothing');

# --- a step blocked by a lock: retried until the blocker leaves ---------------
fresh();
sql(q{CREATE TABLE target (id int);
	SELECT migrate_revision('r1', NULL, 'ALTER TABLE target ADD COLUMN c int', 'ALTER TABLE target DROP COLUMN c', 'alter');});
my $blocker = background($node, q{SET application_name = 'blocker'},
	q{BEGIN; SELECT count(*) FROM target; SELECT pg_sleep(1.5); COMMIT;});
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'blocker' AND wait_event = 'PgSleep'})
  or die "the blocker did not start";
sql(q{SET pg_migrate.retry_backoff = '100ms';
	CALL migrate_apply('head', lock_timeout => '100ms', lock_retries => 20)});
$blocker->{h}->finish;
is(sql(q{SELECT string_agg(revision, ',') FROM migrate_current()}), 'r1', 'the blocked step succeeded in the end');
my $retries = sql(q{SELECT count(*) FROM pgmigrate.migrate_log WHERE outcome = 'retry'});
ok($retries >= 2, "it was retried ($retries times)");
is(sql(q{SELECT bool_and(blockers -> 0 ->> 'application_name' = 'blocker') FROM pgmigrate.migrate_log WHERE outcome = 'retry'}),
	't', 'each retry names the blocking session');
is(sql(q{SELECT outcome FROM pgmigrate.migrate_log ORDER BY id DESC LIMIT 1}), 'success', 'the last attempt succeeded');
is(sql(q{SELECT count(*) FROM pg_attribute WHERE attrelid = 'target'::regclass AND attname = 'c'}), '1',
	'and its change is there');

# --- CREATE INDEX CONCURRENTLY under concurrent writes ---------------------
fresh();
sql(q{CREATE EXTENSION IF NOT EXISTS amcheck;
	CREATE TABLE writes (id bigserial PRIMARY KEY, v int);
	INSERT INTO writes (v) SELECT g FROM generate_series(1, 100000) g;
	SELECT migrate_revision('r1', NULL, 'CREATE INDEX CONCURRENTLY writes_v ON writes (v)',
							'DROP INDEX CONCURRENTLY writes_v', 'index under load', transactional => false);});
my $writer = background($node, q{SET application_name = 'writer'}, q{
	DO $$ BEGIN FOR i IN 1..300 LOOP INSERT INTO writes (v) SELECT g FROM generate_series(1, 100) g; COMMIT; PERFORM pg_sleep(0.005); END LOOP; END $$});
$node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'writer'})
  or die "the writer did not start";
sql(q{CALL migrate_apply('head')});
$writer->{h}->finish;
is(sql(q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'writes_v'::regclass}), 't',
	'the concurrent build under writes produced a valid index');
is(sql(q{SELECT count(*) > 100000 FROM writes}), 't', 'the writer wrote during the build');
ok(defined eval { sql(q{SELECT bt_index_check('writes_v', true)}); 1 },
	'amcheck: the index holds every row (heapallindexed)');
is(sql(q{SELECT string_agg(revision || ':' || outcome, ',' ORDER BY id) FROM pgmigrate.migrate_log}),
	'r1:started,r1:success', 'logged');

# --- a failed concurrent build, then a retry that drops the invalid index ---
fresh();
sql(q{CREATE TABLE target (id int); INSERT INTO target VALUES (1), (1), (2);
	SELECT migrate_revision('r1', NULL, 'CREATE UNIQUE INDEX CONCURRENTLY target_id ON target (id)',
							'DROP INDEX CONCURRENTLY target_id', 'unique', transactional => false);});
my ($rc, $out, $err) = $node->psql('postgres', q{CALL migrate_apply('head')});
isnt($rc, 0, 'the concurrent build fails on duplicates');
like($err, qr/could not create unique index "target_id"/, 'with the original error');
like($err, qr/left the invalid index "target_id" behind/, 'and says it left an invalid index');
is(sql(q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'target_id'::regclass}), 'f',
	'the invalid index is there');
is(sql(q{SELECT count(*) FROM migrate_current()}), '0', 'the step is not recorded as applied');
is(sql(q{SELECT outcome || ':' || sqlstate FROM pgmigrate.migrate_log ORDER BY id DESC LIMIT 1}), 'failed:23505',
	'the failure is logged');
sql(q{DELETE FROM target WHERE ctid = (SELECT min(ctid) FROM target WHERE id = 1)});
sql(q{CALL migrate_apply('head')});
is(sql(q{SELECT indisvalid FROM pg_index WHERE indexrelid = 'target_id'::regclass}), 't',
	'the retry dropped the invalid index and built a valid one');
is(sql(q{SELECT string_agg(revision, ',') FROM migrate_current()}), 'r1', 'and recorded the step');

# --- eight overlapping runs --------------------------------------------------
fresh();
sql(q{CREATE TABLE counter (revision text);
	SELECT migrate_revision('c' || lpad(i::text, 2, '0'),
		CASE WHEN i > 1 THEN 'c' || lpad((i - 1)::text, 2, '0') END,
		format('INSERT INTO counter VALUES (%L); SELECT pg_sleep(0.05)', 'c' || lpad(i::text, 2, '0')),
		format('DELETE FROM counter WHERE revision = %L', 'c' || lpad(i::text, 2, '0')))
	FROM generate_series(1, 20) i;});
my @runs = map { background($node, "SET application_name = 'run$_'", q{CALL migrate_apply('head')}) } 1 .. 8;
my $failed = 0;
foreach my $r (@runs)
{
	$r->{h}->finish;
	$failed++ if $r->{h}->result != 0;
}
is($failed, 0, 'eight overlapping runs all succeed');
is(sql(q{SELECT count(*) || '/' || count(DISTINCT revision) FROM counter}), '20/20',
	'every revision was applied exactly once');
is(sql(q{SELECT count(*) FROM pgmigrate.migrate_log WHERE outcome = 'success'}), '20', 'and logged once');
is(sql(q{SELECT string_agg(revision, ',') FROM migrate_current()}), 'c20', 'the state is at head');

# overlapping runs told to skip: exactly one works, the others skip quietly
sql(q{CALL migrate_apply('base', downgrade => true)});
@runs = map { background($node, "SET application_name = 'skip$_'", q{CALL migrate_apply('head', skip_if_locked => true)}) } 1 .. 4;
$_->{h}->finish foreach @runs;
is(sql(q{SELECT count(*) || '/' || count(DISTINCT revision) FROM counter}), '20/20',
	'skipping runs apply every revision once');
is((grep { ${ $_->{err} } =~ /skipped/ } @runs) + 0 >= 1 ? 1 : 0, 1, 'and at least one run said it skipped');

$node->stop;
done_testing();
