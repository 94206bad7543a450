# pg_cron runs CALL migrate_apply on a schedule: pending revisions get
# applied, a failing revision shows in cron.job_run_details and in
# migrate_log, and overlapping jobs never apply a revision twice.  The job
# in the postgres database is made by 1.0's migrate_schedule and runs after
# ALTER EXTENSION pg_migrate UPDATE: a schedule survives the update.
# pg_cron 1.4 (Debian bookworm) schedules by the minute, so this test waits
# for the next minute boundary once.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 20
});
$node->start;

sub sql { return $node->safe_psql($_[1] // 'postgres', $_[0]); }

sql(q{CREATE EXTENSION pg_cron; CREATE EXTENSION pg_migrate VERSION '1.0'});
sql(q{CREATE DATABASE app});
sql(q{CREATE EXTENSION pg_migrate}, 'app');

# postgres: one good revision, then one that fails
sql(q{SELECT migrate_revision('r1', NULL, 'CREATE TABLE t1 (id int)', 'DROP TABLE t1', 'one');
	  SELECT migrate_revision('r2', 'r1', 'SELECT 1 / 0', 'SELECT 1', 'fails');});
my $job = sql(q{SELECT migrate_schedule('migrate', '* * * * *')});
ok($job > 0, 'migrate_schedule() created a pg_cron job');
like(sql(q{SELECT command FROM cron.job WHERE jobid = } . $job),
	qr/CALL public\.migrate_apply\('head', skip_if_locked => true\)/, 'that calls migrate_apply');
sql(q{ALTER EXTENSION pg_migrate UPDATE});
is(sql(q{SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate'}), '1.1', 'updated to 1.1');
is(sql(q{SELECT count(*) FROM cron.job WHERE jobid = } . $job), '1', 'the job survives the update');

# app: two overlapping jobs over a slow chain
sql(q{CREATE TABLE counter (revision text);
	  SELECT migrate_revision('c' || i, CASE WHEN i > 1 THEN 'c' || (i - 1) END,
		  format('INSERT INTO counter VALUES (%L); SELECT pg_sleep(1)', 'c' || i),
		  format('DELETE FROM counter WHERE revision = %L', 'c' || i))
	  FROM generate_series(1, 4) i;}, 'app');
sql(q{SELECT cron.schedule_in_database('app_a', '* * * * *',
		'CALL migrate_apply(''head'', skip_if_locked => true)', 'app');
	  SELECT cron.schedule_in_database('app_b', '* * * * *',
		'CALL migrate_apply(''head'', skip_if_locked => true)', 'app');});

# wait for the three jobs' first runs (at the next minute boundary)
$node->poll_query_until('postgres',
	q{SELECT count(DISTINCT jobid) = 3 FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')},
	't')
  or die 'pg_cron did not run the jobs';
sql(q{SELECT cron.unschedule(jobname) FROM cron.job});

is(sql(q{SELECT status FROM cron.job_run_details WHERE jobid = } . $job . q{ ORDER BY runid LIMIT 1}),
	'failed', 'the failing revision fails the cron run');
like(sql(q{SELECT return_message FROM cron.job_run_details WHERE jobid = } . $job . q{ ORDER BY runid LIMIT 1}),
	qr/division by zero/, 'cron.job_run_details has the error');
is(sql(q{SELECT string_agg(revision, ',') FROM migrate_current()}), 'r1', 'the good revision was applied');
# (DISTINCT: on a loaded machine the wait above can outlast a minute boundary,
# and the failing job then runs, and fails, once more)
is(sql(q{SELECT string_agg(DISTINCT outcome || ':' || sqlstate, ',') FROM pgmigrate.migrate_log
	  WHERE revision = 'r2' AND outcome = 'failed'}),
	'failed:22012', 'migrate_log has the failed attempt');

is(sql(q{SELECT count(*) || '/' || count(DISTINCT revision) FROM counter}, 'app'), '4/4',
	'overlapping cron jobs applied every revision exactly once');
is(sql(q{SELECT count(*) FROM pgmigrate.migrate_log WHERE outcome = 'success'}, 'app'), '4', 'logged once each');
is(sql(q{SELECT string_agg(status, ',') FROM cron.job_run_details WHERE jobid IN
		   (SELECT jobid FROM cron.job_run_details d JOIN (VALUES ('app')) v(db) ON d.database = v.db)}),
	'succeeded,succeeded', 'both app jobs ended without error');

$node->stop;
done_testing();
