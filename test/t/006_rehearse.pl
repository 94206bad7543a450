# migrate_rehearse on a live database: while a rehearsed statement holds a
# lock that blocks writes, another session's INSERT waits, and the report
# names that session; a rehearsed statement that waits for another
# session's lock gives up after pg_migrate.rehearse_lock_timeout; and the
# rehearsal leaves the database as pg_dump --schema-only saw it.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PgmTap;

my $node = PostgreSQL::Test::Cluster->new('rehearse');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_migrate;
	CREATE TABLE public.t (id int PRIMARY KEY, v text);
	INSERT INTO public.t SELECT g, 'v' FROM generate_series(1, 1000) g;
	SELECT migrate_revision('aaaa00000001', NULL,
		'LOCK TABLE public.t IN SHARE MODE; SELECT pg_sleep(4)', 'SELECT 1');
});

sub schema_dump
{
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'pg_dump', '--schema-only', '-d', $node->connstr('postgres') ],
		'>', \$out, '2>', \$err) or die "pg_dump failed: $err";
	# \restrict and \unrestrict (15.14 on) carry a random key each time
	$out =~ s/^\\(un)?restrict .*$//mg;
	return $out;
}

my $dump_before = schema_dump();
my $state_before = $node->safe_psql('postgres', q{
	SELECT migrate_fingerprint(ARRAY['public']) || ' ' || (SELECT count(*) FROM public.t)
	       || ' ' || (SELECT count(*) FROM pgmigrate.migrate_log)
	       || ' ' || (SELECT count(*) FROM pgmigrate.migrate_version)});

# the rehearsal, in the background: statement 2 sleeps holding SHARE on t
my $rehearsal = background($node,
	q{SELECT 'blocked=' || COALESCE((SELECT string_agg(b->>'pid' || ':' || (b->>'application_name'), ',')
	                                 FROM jsonb_array_elements(blocked) b), '') AS r
	  FROM migrate_rehearse() WHERE statement = 2});
ok($node->poll_query_until('postgres', q{
	SELECT count(*) > 0 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
	WHERE c.relname = 't' AND l.mode = 'ShareLock' AND l.granted AND l.pid <> pg_backend_pid()}),
	'the rehearsal holds SHARE on t');

# a writer, which must wait
my $writer = background($node,
	q{SET application_name = 'the_writer'},
	q{INSERT INTO public.t VALUES (100001, 'after')});
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity
	WHERE application_name = 'the_writer' AND wait_event_type = 'Lock'}),
	'the writer waits for the rehearsal');
my $writer_pid = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE application_name = 'the_writer'});

$rehearsal->{h}->finish;
like(${ $rehearsal->{out} }, qr/blocked=\Q$writer_pid\E:the_writer/,
	'the report names the blocked writer, by pid and application');
$writer->{h}->finish;
is($writer->{h}->result(0), 0, 'the writer went on once the rehearsal ended');

# the writer's row is the only change; take it out again and compare
$node->safe_psql('postgres', q{DELETE FROM public.t WHERE id = 100001});
is(schema_dump(), $dump_before, 'pg_dump --schema-only is the same after the rehearsal');
is($node->safe_psql('postgres', q{
	SELECT migrate_fingerprint(ARRAY['public']) || ' ' || (SELECT count(*) FROM public.t)
	       || ' ' || (SELECT count(*) FROM pgmigrate.migrate_log)
	       || ' ' || (SELECT count(*) FROM pgmigrate.migrate_version)}),
	$state_before, 'fingerprint, rows, log and version state are the same');

# another session holds the table: the rehearsed ALTER gives up after the lock timeout
$node->safe_psql('postgres', q{
	DELETE FROM pgmigrate.migrate_revisions;
	SELECT migrate_revision('bbbb00000001', NULL, 'ALTER TABLE public.t ADD COLUMN w int', 'SELECT 1');
});
my $holder = background($node,
	q{SET application_name = 'the_holder'},
	q{BEGIN; LOCK TABLE public.t IN ACCESS SHARE MODE; SELECT pg_sleep(5); COMMIT;});
ok($node->poll_query_until('postgres', q{
	SELECT count(*) > 0 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
	JOIN pg_stat_activity a ON a.pid = l.pid
	WHERE c.relname = 't' AND a.application_name = 'the_holder' AND l.granted}),
	'another session holds t');
my $started = time;
is($node->safe_psql('postgres', q{
	SET pg_migrate.rehearse_lock_timeout = '300ms';
	SELECT statement || ':' || sqlstate FROM migrate_rehearse()}),
	'1:55P03', 'the rehearsed statement times out on the lock (55P03)');
cmp_ok(time - $started, '<', 4, 'well before the holder lets go');
$holder->{h}->finish;

# a cancel ends the call (it is not the rehearsal's own statement timeout,
# which would be a row): for migrate_rehearse and migrate_check alike
$node->safe_psql('postgres', q{
	DELETE FROM pgmigrate.migrate_revisions;
	SELECT migrate_revision('cccc00000001', NULL, 'SELECT pg_sleep(20)', 'SELECT 1');
});
for my $fn ('migrate_rehearse', 'migrate_check')
{
	my $call = background($node, qq{SET application_name = 'the_$fn'}, qq{SELECT * FROM $fn()});
	ok($node->poll_query_until('postgres', qq{
		SELECT count(*) = 1 FROM pg_stat_activity
		WHERE application_name = 'the_$fn' AND query LIKE '%pg_sleep%'
		   OR application_name = 'the_$fn' AND wait_event = 'PgSleep'}),
		"$fn is running the step");
	$node->safe_psql('postgres', qq{
		SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'the_$fn'});
	$call->{h}->finish;
	isnt($call->{h}->result(0), 0, "a cancelled $fn fails");
	like(${ $call->{err} }, qr/canceling statement due to user request/,
		"$fn passes the cancel on instead of reporting it as a finding");
}

$node->stop;
done_testing();
