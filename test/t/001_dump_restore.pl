# pg_dump keeps pg_migrate's catalog: revisions, version state, log and the
# sequences behind them survive a dump and restore, and migrating goes on
# from where it was in the restored database.  Twice: for a database made
# with 1.1, and for one made with 1.0 and updated to 1.1 (whose catalog the
# update moved into the schema pgmigrate).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;

sub dump_and_restore
{
	my ($src, $create) = @_;
	my $dst = "${src}_restored";

	$node->safe_psql('postgres', "CREATE DATABASE $src");
	$node->safe_psql($src, qq{
		CREATE SCHEMA tools;
		$create
		SET search_path = public, tools;
		SELECT migrate_revision('aaaa0001', NULL, 'CREATE TABLE users (id int)', 'DROP TABLE users', 'users', '{app}');
		SELECT migrate_revision('bbbb0002', 'aaaa0001', 'CREATE TABLE posts (id int)', 'DROP TABLE posts', 'posts');
		SELECT migrate_revision('cccc0003', 'bbbb0002', 'CREATE TABLE tags (id int)', NULL, 'tags');
		SELECT count(*) FROM migrate_upgrade('aaaa0001');
		SELECT count(*) FROM migrate_upgrade('bbbb0002');
		ALTER EXTENSION pg_migrate UPDATE;
	});
	is($node->safe_psql($src, q{SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate'}),
		'1.1', "$src: at 1.1 before the dump");

	my $dump = "$PostgreSQL::Test::Utils::tmp_check/$src.dump";
	$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr($src) ], "$src: pg_dump");
	$node->safe_psql('postgres', "CREATE DATABASE $dst");
	$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr($dst), $dump ],
		"$src: pg_restore");

	my $q = sub { $node->safe_psql($dst, "SET search_path = public, tools; $_[0]") };

	is($q->(q{SELECT string_agg(revision, ',' ORDER BY seq) FROM pgmigrate.migrate_revisions}),
		'aaaa0001,bbbb0002,cccc0003', "$src: revisions restored in registration order");
	is($q->(q{SELECT string_agg(revision, ',') FROM migrate_current()}),
		'bbbb0002', "$src: version state restored");
	is($q->(q{SELECT string_agg(revision || ':' || direction || ':' || run_id, ',' ORDER BY id) FROM pgmigrate.migrate_log}),
		'aaaa0001:upgrade:1,bbbb0002:upgrade:2', "$src: log restored, run ids with it");
	is($q->(q{SELECT bool_and(checksum = migrate_checksum(upgrade_sql, downgrade_sql)) FROM pgmigrate.migrate_revisions}),
		't', "$src: checksums still match the SQL");
	is($q->(q{SELECT migrate_resolve('app@head')::text}), '{cccc0003}', "$src: branch labels restored");
	is($q->(q{SELECT string_agg(revision, ',') FROM migrate_upgrade('head')}),
		'cccc0003', "$src: upgrade goes on from the restored state");

	# the sequences were restored too: new rows do not collide with old ones
	$q->(q{SELECT migrate_revision('dddd0004', 'cccc0003', 'SELECT 1', 'SELECT 1', 'after restore')});
	is($q->(q{SELECT count(DISTINCT seq) FROM pgmigrate.migrate_revisions}), '4',
		"$src: registration sequence continued");
	is($q->(q{SELECT count(DISTINCT id) FROM pgmigrate.migrate_log}), '3', "$src: log sequence continued");
	# 1.0 did not dump migrate_run_seq: the first run after a restore got
	# run_id 1 again and shared it with old rows
	is($q->(q{SELECT run_id FROM pgmigrate.migrate_log WHERE revision = 'cccc0003'}), '3',
		"$src: run sequence continued");
	is($q->(q{SELECT extversion FROM pg_extension WHERE extname = 'pg_migrate'}), '1.1',
		"$src: restored at 1.1");
}

dump_and_restore('fresh', q{CREATE EXTENSION pg_migrate SCHEMA tools;});
dump_and_restore('updated', q{CREATE EXTENSION pg_migrate VERSION '1.0' SCHEMA tools;});

$node->stop;
done_testing();
