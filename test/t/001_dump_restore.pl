# pg_dump keeps pg_migrate's catalog: revisions, version state, log and the
# sequences behind them survive a dump and restore, and migrating goes on
# from where it was in the restored database.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
	CREATE SCHEMA tools;
	CREATE EXTENSION pg_migrate SCHEMA tools;
	SET search_path = public, tools;
	SELECT migrate_revision('aaaa0001', NULL, 'CREATE TABLE users (id int)', 'DROP TABLE users', 'users', '{app}');
	SELECT migrate_revision('bbbb0002', 'aaaa0001', 'CREATE TABLE posts (id int)', 'DROP TABLE posts', 'posts');
	SELECT migrate_revision('cccc0003', 'bbbb0002', 'CREATE TABLE tags (id int)', NULL, 'tags');
	SELECT count(*) FROM migrate_upgrade('bbbb0002');
});

my $dump = "$PostgreSQL::Test::Utils::tmp_check/src.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('src') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('dst'), $dump ],
	'pg_restore');

my $q = sub { $node->safe_psql('dst', "SET search_path = public, tools; $_[0]") };

is($q->(q{SELECT string_agg(revision, ',' ORDER BY seq) FROM pgmigrate.migrate_revisions}),
	'aaaa0001,bbbb0002,cccc0003', 'revisions restored in registration order');
is($q->(q{SELECT string_agg(revision, ',') FROM migrate_current()}),
	'bbbb0002', 'version state restored');
is($q->(q{SELECT string_agg(revision || ':' || direction, ',' ORDER BY id) FROM pgmigrate.migrate_log}),
	'aaaa0001:upgrade,bbbb0002:upgrade', 'log restored');
is($q->(q{SELECT bool_and(checksum = migrate_checksum(upgrade_sql, downgrade_sql)) FROM pgmigrate.migrate_revisions}),
	't', 'checksums still match the SQL');
is($q->(q{SELECT migrate_resolve('app@head')::text}), '{cccc0003}', 'branch labels restored');
is($q->(q{SELECT string_agg(revision, ',') FROM migrate_upgrade('head')}),
	'cccc0003', 'upgrade goes on from the restored state');

# the sequences were restored too: new rows do not collide with old ones
$q->(q{SELECT migrate_revision('dddd0004', 'cccc0003', 'SELECT 1', 'SELECT 1', 'after restore')});
is($q->(q{SELECT count(DISTINCT seq) FROM pgmigrate.migrate_revisions}), '4', 'registration sequence continued');
is($q->(q{SELECT count(DISTINCT id) FROM pgmigrate.migrate_log}), '3', 'log sequence continued');

$node->stop;
done_testing();
