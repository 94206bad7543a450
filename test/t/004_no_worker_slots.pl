# With no background worker slot free (max_worker_processes = 0): what
# pg_migrate does without the workers it starts for autonomous log rows,
# non-transactional steps and the lock watchdog.  Nothing may crash, hang,
# or lose track of a failed attempt.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('no_workers');
$node->init;
# the logical replication launcher would take the only slot it asked for
$node->append_conf('postgresql.conf',
	"max_worker_processes = 0\nmax_logical_replication_workers = 0\nmax_parallel_workers = 0\n");
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]); }

sql(q{CREATE EXTENSION pg_migrate;
	CREATE TABLE target (id int);
	SELECT migrate_revision('r1', NULL, 'CREATE TABLE t1 (id int)', 'DROP TABLE t1', 'one');
	SELECT migrate_revision('r2', 'r1', 'SELECT 1 / 0', NULL, 'fails');});

# --- function mode: the failure row cannot be written by a worker -----------
my $offset = -s $node->logfile;
my ($rc, $out, $err) = $node->psql('postgres', q{SELECT count(*) FROM migrate_upgrade('head')});
isnt($rc, 0, 'function mode: the failing step fails the call');
like($err, qr/division by zero/, 'with the step\'s own error, not the worker\'s');
ok($node->log_contains(
		qr/WARNING:  pg_migrate could not write the log row of revision "r2" \(failed, attempt 1\): could not start a pg_migrate background worker/,
		$offset),
	'the failed attempt goes to the server log instead of migrate_log');
ok($node->log_contains(qr/DETAIL:  The step ended with SQLSTATE 22012: division by zero/, $offset),
	'naming its SQLSTATE and message');
is(sql(q{SELECT count(*) FROM migrate_current()}), '0', 'nothing applied: the call rolled back');
is(sql(q{SELECT count(*) FROM pg_class WHERE relname = 't1'}), '0', 'not even the step before it');

# --- CALL mode needs no worker for its rows ------------------------------------
($rc, $out, $err) = $node->psql('postgres', q{CALL migrate_apply('head')});
isnt($rc, 0, 'CALL mode: the failing step fails the call');
is(sql(q{SELECT string_agg(revision, ',') FROM migrate_current()}), 'r1', 'the step before it committed');
is(sql(q{SELECT outcome || ':' || sqlstate FROM pgmigrate.migrate_log WHERE revision = 'r2' ORDER BY id DESC LIMIT 1}),
	'failed:22012', 'and the failure row is in migrate_log: CALL mode writes it itself');

# --- the lock watchdog cannot start: the step runs without it -------------------
sql(q{SELECT migrate_revision('r3', 'r1', 'CREATE TABLE t3 (id int)', 'DROP TABLE t3', 'watched',
							  lock_timeout => '5s');});
sql(q{CALL migrate_apply('r3')});
is(sql(q{SELECT string_agg(revision, ',') FROM migrate_current()}), 'r3',
	'a step with a lock_timeout runs without its watchdog');

# --- a non-transactional step needs a worker: 53400 before it runs ----------
sql(q{SELECT migrate_revision('r4', 'r3', 'CREATE INDEX CONCURRENTLY target_id ON target (id)',
							  'DROP INDEX CONCURRENTLY target_id', 'concurrent', transactional => false);});
($rc, $out, $err) = $node->psql('postgres', q{CALL migrate_apply('r4')});
isnt($rc, 0, 'a non-transactional step without a worker slot fails');
like($err, qr/could not start a pg_migrate background worker/, 'saying why');
like($err, qr/HINT:  You may need to increase max_worker_processes/, 'and what to change');
is(sql(q{SELECT count(*) FROM pg_class WHERE relname = 'target_id'}), '0', 'no index was started');
is(sql(q{SELECT string_agg(revision, ',') FROM migrate_current()}), 'r3', 'the step is not recorded');
is(sql(q{SELECT outcome || ':' || sqlstate FROM pgmigrate.migrate_log WHERE revision = 'r4' ORDER BY id DESC LIMIT 1}),
	'failed:53400', 'the failure is logged with its SQLSTATE');

# and the server is still fine for the next call
is(sql(q{SELECT 1}), '1', 'the server still answers');

done_testing();
