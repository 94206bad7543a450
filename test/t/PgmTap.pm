# Helpers shared by pg_migrate's TAP tests (test/t/*.pl); test/run and
# make prove_installcheck put this directory on prove's include path.
package PgmTap;

use strict;
use warnings;

use Exporter 'import';
use IPC::Run;

our @EXPORT = qw(background);

# Run statements in the background with psql against $node's database
# postgres, each on its own (-c per statement: several in one -c would share
# one implicit transaction, where CALL migrate_apply cannot commit); returns
# the harness and its output.
sub background
{
	my ($node, @stmts) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
		  map { ('-c', $_) } @stmts ],
		'>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err };
}

1;
