# Seeded fault injection for CALL migrate_apply and migrate_upgrade /
# migrate_downgrade (issue 10).  Each iteration starts one migration call
# (the "victim") over a chain of transactional and non-transactional
# revisions, injects one fault at a random point (cancel, terminate or
# SIGKILL of the session or of its pg_migrate worker, or an immediate
# shutdown), runs one recovery call the way a deploy job would retry, waits
# until nothing of pg_migrate runs any more, and checks the invariants below.
#
# Every revision's SQL records what really ran in fx_effects: a
# transactional step writes one row ('tx') in its own transaction; a
# non-transactional step writes 'begin' first and 'end' last, each in its
# own transaction, around CREATE / DROP INDEX CONCURRENTLY.  Each row has
# the pid that wrote it and the highest migrate_log id visible then.
#
# Invariants (names as printed, one TAP test each at the end):
#   no-internal-error    no SQLSTATE of class XX from a call, none in migrate_log
#   call-returns         the call ends within 90 s (no hang)
#   no-step-twice        no two executions of a revision overlap in time; no
#                        execution repeats a step whose success was already
#                        logged (without the opposite step in between)
#   state-matches-effects migrate_current() = pgmigrate.migrate_version; a
#                        transactional revision is applied iff its table
#                        exists iff its last effect row is an upgrade; an
#                        applied non-transactional revision has its index;
#                        an unapplied one has none unless its last attempt
#                        was cut short or failed (partial, which the README
#                        allows for non-transactional steps)
#   no-invalid-index     no applied revision's index is invalid (indisvalid)
#   started-has-outcome  every 'started' row is followed (higher id, same
#                        run_id, revision, direction, attempt) by one outcome
#                        row (success/failed/retry); the README promises no
#                        outcome for an attempt whose session died, so such
#                        a row may stay alone only if it is the last row of
#                        its run and the run's session really died
#   no-orphan-worker     no pg_migrate worker / lock watchdog is alive 0.5 s
#                        after the session it serves (its "for PID n" in the
#                        process title) is gone, and no worker seen serving
#                        the victim writes an effect row 0.5 s after it died
#   lock-free            when quiescent, migrate_status() says not running and
#                        pg_locks has no advisory lock of class 1885826407
#   recovery-succeeds    the recovery call (no fault) succeeds
#
# Usage: perl fault_injection.pl [--seed N] [--short] [--iterations N]
# (env PGM_FAULT_SEED, PGM_FAULT_SHORT=1, PGM_FAULT_ITERATIONS, PGM_FAULT_PORT).
# Run it through test/fault/run, which runs it as the postgres user.
use strict;
use warnings;

use Fcntl qw(:flock);
use Getopt::Long;
use List::Util;
use IPC::Run;
use Time::HiRes qw(time sleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $seed = $ENV{PGM_FAULT_SEED};
my $short = $ENV{PGM_FAULT_SHORT} ? 1 : 0;
my $iterations = $ENV{PGM_FAULT_ITERATIONS};
my $seconds;
$seed = undef if defined $seed && $seed eq q{};
$iterations = undef if defined $iterations && $iterations eq q{};
GetOptions('seed=i' => \$seed, 'short' => \$short, 'iterations=i' => \$iterations,
	'seconds=i' => \$seconds) or die "usage: $0 [--seed N] [--short] [--iterations N] [--seconds S]\n";
$seed = int(rand(2**31)) unless defined $seed;
srand($seed);
$seconds = 60 if $short && !defined $seconds && !defined $iterations;
$iterations = 40 unless defined $iterations || defined $seconds;
$iterations = 1_000_000 unless defined $iterations;
$seconds = 1e9 unless defined $seconds;
$seed = undef if defined $seed && $seed eq q{};
$iterations = undef if defined $iterations && $iterations eq q{};
my $port = $ENV{PGM_FAULT_PORT} || 55470;

diag("pg_migrate fault injection: seed $seed ("
	  . ($short ? "short, ~$seconds s" : "iterations $iterations") . "), port $port");
diag("reproduce: test/fault/run --seed $seed" . ($short ? " --short" : " --iterations $iterations"));

my @INVARIANTS = qw(no-internal-error call-returns no-step-twice state-matches-effects
  no-invalid-index started-has-outcome no-orphan-worker lock-free recovery-succeeds);
my %violations = map { $_ => 0 } @INVARIANTS;
my %checked = map { $_ => 0 } @INVARIANTS;
my %allowed;	# README-allowed repeats and partial non-transactional steps
my @first_violation;	# [invariant, iteration, text]
my %seen_violation;
my %by_finding;
my $cur_fault = '';
my $iter = 0;
my %fault_count;
my %victim_workers;	# pids of the workers seen serving the victim session
my $victim_pid;

# a terminated run still stops its cluster (the END blocks of Cluster.pm)
$SIG{TERM} = $SIG{INT} = sub { die "terminated\n" };
my $node = PostgreSQL::Test::Cluster->new('fault', port => $port);
$node->init;
$node->append_conf('postgresql.conf', join("\n",
	'max_worker_processes = 24', 'max_locks_per_transaction = 256', 'fsync = off',
	'restart_after_crash = on', 'log_min_messages = warning', 'log_statement = none', "log_line_prefix = '%m [%p] %b '", ''));
start_node();

# Take the shared install lock only while the server starts (loading a .so
# that another engineer is installing at that moment would be a mess).
# Waits at most 30 s for it: test/run may hold it for minutes, and the
# library is only loaded by CREATE EXTENSION and the first call anyway.
sub start_node
{
	my ($wait) = @_;
	$wait //= 10;
	my $lk;
	if (open($lk, '<', '/tmp/pgm_install.lock'))
	{
		my $dl = time + $wait;
		until (flock($lk, LOCK_EX | LOCK_NB))
		{
			if (time > $dl)
			{
				note("/tmp/pgm_install.lock busy for $wait s: starting without it");
				close($lk);
				undef $lk;
				last;
			}
			sleep 0.2;
		}
	}
	$node->start;
	close($lk) if $lk;
}

# what the known defects (/work/shared/reliability-findings) look like here
my @HINTS = (
	[ qr/exited before finishing|after fault (terminate|kill9|cancel)_worker/, '005 terminated worker -> XX000' ],
	[ qr/^started-has-outcome.*fault (terminate|cancel)_worker/, '005 (its failed row) / 004' ],
	[ qr/^started-has-outcome.*survived.*fault cancel/, '004 cancel of a non-transactional step not logged' ],
	[ qr/^no-orphan-worker/, '009 orphaned worker (session terminated while its worker runs)' ],
	[ qr/^no-step-twice/, '009 step runs twice (orphaned worker)' ],
	[ qr/^state-matches-effects.*non-transactional.*(missing|exists)/, '010 orphaned worker, state diverges' ],
	[ qr/^call-returns/, '003/012 hang the deadlock detector cannot see' ],
);

sub hint
{
	my ($inv, $text) = @_;
	foreach my $h (@HINTS) { return " [looks like finding $h->[1]]" if "$inv $text" =~ $h->[0]; }
	return ' [not one of the 12 known findings?]';
}

sub violation
{
	my ($inv, $text) = @_;
	# a state that stays wrong is reported once, not at every later check
	return if $seen_violation{"$inv $text"}++;
	$text .= " (fault $cur_fault)" if $cur_fault && $text !~ /fault /;
	$violations{$inv}++;
	push @first_violation, [ $inv, $iter, $text ] if $violations{$inv} <= 3;
	my $h = hint($inv, $text);
	$by_finding{$h}++;
	diag("VIOLATION $inv (seed $seed, iteration $iter): $text$h");
}

sub check { $checked{ $_[0] }++; }

# harness queries: wait for the server, then run; die on error
sub sql
{
	my ($q) = @_;
	wait_ready();
	my ($rc, $out, $err) = $node->psql('postgres', $q, on_error_stop => 1);
	die "harness query failed (seed $seed, iteration $iter): $q\n$err" if $rc != 0;
	return $out;
}

sub wait_ready
{
	my $deadline = time + 120;
	while (time < $deadline)
	{
		my ($rc, $out, $err) = $node->psql('postgres', 'SELECT 1');
		return if $rc == 0 && $out eq '1';
		sleep 0.1;
	}
	die "server did not come back (seed $seed, iteration $iter)\n";
}

sub background
{
	my ($appname, $stmt) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose',
		  '-d', $node->connstr('postgres'),
		  '-c', "SET application_name = '$appname'", '-c', $stmt ],
		'>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err, stmt => $stmt };
}

# wait for a background call; returns 0 on timeout (the call hangs)
sub finish_call
{
	my ($c, $timeout) = @_;
	my $deadline = time + $timeout;
	while (time < $deadline)
	{
		unless ($c->{h}->pumpable)
		{
			eval { $c->{h}->finish; };
			return 1;
		}
		eval { $c->{h}->pump_nb; };
		sleep 0.02;
	}
	return 0;
}

# the pg_migrate background processes with the PID of the session each
# serves (from the process title, "pg_migrate worker for PID n")
sub pgm_workers
{
	my ($rc, $out) = $node->psql('postgres',
		q{SELECT pid, backend_type, coalesce(query, '') FROM pg_stat_activity
		  WHERE backend_type IN ('pg_migrate worker', 'pg_migrate lock watchdog') ORDER BY pid});
	return () if $rc != 0;
	my @w;
	foreach my $line (split /\n/, $out)
	{
		my ($pid, $type, $query) = split /\|/, $line, 3;
		my $title = '';
		if (open(my $fh, '<', "/proc/$pid/cmdline")) { local $/; $title = <$fh> // ''; close $fh; }
		$title =~ tr/\0/ /;
		$title =~ s/\s+$//;
		next if $title eq '';	# exited between the query and the read
		my ($leader) = $title =~ /for PID (\d+)/;
		push @w, { pid => $pid, type => $type, query => $query, leader => $leader, title => $title };
		$victim_workers{$pid} = 1 if defined $leader && $victim_pid && $leader == $victim_pid;
	}
	return @w;
}

sub live_backends
{
	my ($rc, $out) = $node->psql('postgres', q{SELECT pid FROM pg_stat_activity});
	return map { $_ => 1 } split /\n/, $out;
}

# --- the migration chain --------------------------------------------------
my @chain;		# [{rev, tx}]
my $generation = 0;

sub effect_sql
{
	my ($rev, $dir, $phase) = @_;
	return "INSERT INTO public.fx_effects (revision, direction, phase, pid, logmax) VALUES "
	  . "('$rev', '$dir', '$phase', pg_backend_pid(), "
	  . "(SELECT coalesce(max(id), 0) FROM pgmigrate.migrate_log))";
}

sub new_generation
{
	$generation++;
	my $n = 5 + int(rand(4));
	@chain = ();
	my @regs;
	# at least two non-transactional revisions, never the first
	my %nontx = map { $_ => 1 } (2 + int(rand($n - 1)), 2 + int(rand($n - 1)));
	for my $i (1 .. $n)
	{
		my $rev = sprintf('g%dr%02d', $generation, $i);
		my $tx = ($i == 1 || (!$nontx{$i} && rand() < 0.7)) ? 1 : 0;
		my $sleep = $tx ? sprintf('%.2f', 0.05 + rand(0.35)) : sprintf('%.2f', 0.3 + rand(0.9));
		my ($up, $down);
		if ($tx)
		{
			$up = effect_sql($rev, 'upgrade', 'tx') . "; CREATE TABLE public.fx_$rev (id int); SELECT pg_sleep($sleep)";
			$down = effect_sql($rev, 'downgrade', 'tx') . "; DROP TABLE public.fx_$rev; SELECT pg_sleep($sleep)";
		}
		else
		{
			$up = effect_sql($rev, 'upgrade', 'begin') . "; SELECT pg_sleep($sleep); "
			  . "CREATE INDEX CONCURRENTLY IF NOT EXISTS fx_${rev}_idx ON public.fx_data (v); "
			  . effect_sql($rev, 'upgrade', 'end');
			$down = effect_sql($rev, 'downgrade', 'begin') . "; SELECT pg_sleep($sleep); "
			  . "DROP INDEX CONCURRENTLY IF EXISTS public.fx_${rev}_idx; "
			  . effect_sql($rev, 'downgrade', 'end');
		}
		push @chain, { rev => $rev, tx => $tx, sleep => $sleep };
		my $parent = $i == 1 ? 'NULL' : "'" . $chain[-2]{rev} . "'";
		push @regs, sprintf("SELECT migrate_revision('%s', %s, %s, %s, 'fault %s', transactional => %s);",
			$rev, $parent, dollar($up), dollar($down), $rev, $tx ? 'true' : 'false');
	}
	sql(q{SET client_min_messages = warning;
		DROP EXTENSION IF EXISTS pg_migrate CASCADE;
		DO $$ DECLARE r record; BEGIN
		  FOR r IN SELECT relname FROM pg_class WHERE relname LIKE 'fx\_%' AND relkind = 'r' AND relnamespace = 'public'::regnamespace
		  LOOP EXECUTE format('DROP TABLE IF EXISTS public.%I CASCADE', r.relname); END LOOP; END $$;
		CREATE EXTENSION pg_migrate;
		CREATE TABLE public.fx_effects (id bigserial PRIMARY KEY, revision text, direction text, phase text,
			pid int, logmax bigint, at timestamptz DEFAULT clock_timestamp());
		CREATE TABLE public.fx_data (id int, v int);
		INSERT INTO public.fx_data SELECT g, g % 977 FROM generate_series(1, 30000) g;}
		  . join("\n", @regs));
	diag("generation $generation: " . join(' ', map { $_->{rev} . ($_->{tx} ? '' : '(non-tx)') } @chain));
}

sub dollar { my ($s) = @_; return '$fx$' . $s . '$fx$'; }

# --- one call, chosen at random ---------------------------------------------
# Mostly a target the current state can reach (upgrade to a revision above
# the applied one, downgrade to one below); now and then any target.
sub current_index
{
	my $cur = sql(q{SELECT coalesce(string_agg(revision, ','), '') FROM migrate_current()});
	for my $i (0 .. $#chain) { return $i if $chain[$i]{rev} eq $cur; }
	return -1;
}

my $last_arbitrary = 0;	# the last command may be refused (any target)
sub random_command
{
	my ($call_only) = @_;
	my $ci = current_index();
	my ($t, $down);
	$last_arbitrary = 0;
	if (!$call_only && rand() < 0.12)
	{
		my @t = ('base', 'head', map { $_->{rev} } @chain);
		$t = $t[ int(rand(@t)) ];
		$down = rand() < 0.4;
		$last_arbitrary = 1;
	}
	else
	{
		$down = $ci == $#chain || ($ci >= 0 && rand() < 0.45);
		if ($down)
		{
			my $k = int(rand($ci + 1)) - 1;	# -1 .. ci-1
			$t = $k < 0 ? 'base' : $chain[$k]{rev};
		}
		else
		{
			my $k = $ci + 1 + int(rand($#chain - $ci));
			$t = $k == $#chain && rand() < 0.5 ? 'head' : $chain[$k]{rev};
		}
	}
	my $mode = (!$call_only && rand() < 0.25) ? 'function' : 'call';
	if ($mode eq 'function')
	{
		return $down ? "SELECT * FROM migrate_downgrade('$t')" : "SELECT * FROM migrate_upgrade('$t')";
	}
	my $st = (!$call_only && rand() < 0.08) ? ', single_transaction => true' : '';
	return $down ? "CALL migrate_apply('$t', downgrade => true$st)" : "CALL migrate_apply('$t'$st)";
}

# does the command's plan (from the current state) contain a non-transactional step?
sub plan_has_nontx
{
	my ($cmd) = @_;
	return 0 unless $cmd =~ /^CALL migrate_apply\('([^']+)'(, downgrade => true)?\)$/;
	my ($t, $down) = ($1, $2 ? 1 : 0);
	my $ci = current_index();
	my $ti = $t eq 'head' ? $#chain : $t eq 'base' ? -1 : (grep { $chain[$_]{rev} eq $t } 0 .. $#chain)[0];
	return 0 unless defined $ti;
	my @steps = $down ? ($ti + 1 .. $ci) : ($ci + 1 .. $ti);
	return scalar grep { !$chain[$_]{tx} } @steps;
}

sub sqlstates_of { my ($err) = @_; return ($err =~ /(?:ERROR|FATAL|PANIC):\s+([0-9A-Z]{5}):/g); }

# weighted: most of the interesting states are while a worker runs
# Dealt from a shuffled deck (seeded), so that even a short run sees each kind.
my @FAULTS = qw(none cancel_session cancel_session terminate_session terminate_session terminate_session
  kill9_session cancel_worker terminate_worker terminate_worker kill9_worker immediate_restart);
my @deck;
sub next_fault
{
	@deck = List::Util::shuffle(@FAULTS) unless @deck;
	return shift @deck;
}

# --- invariants over the state after an iteration ---------------------------
my %death_by_run;	# run_id => server time the session was seen dead
my $last_log_id = 0;

sub check_state
{
	my (%calls) = @_;	# pid => {died => 0/1}
	# quiescent: no pg_migrate process left
	my $deadline = time + 90;
	while (time < $deadline && pgm_workers()) { sleep 0.1; }
	if (my @w = pgm_workers())
	{
		violation('call-returns', "pg_migrate processes still running 90 s after the calls: "
			  . join(', ', map { "$_->{pid} ($_->{title})" } @w));
		sql("SELECT pg_terminate_backend($_->{pid})") foreach @w;
		sleep 1;
	}

	# lock-free
	check('lock-free');
	my $locks = sql(q{SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1885826407});
	my $running = sql(q{SELECT string_agg(running::text, ',') FROM migrate_status()});
	violation('lock-free', "pg_locks has $locks advisory lock(s) of class 1885826407, migrate_status().running = $running")
	  if $locks ne '0' || $running ne 'false';

	# the log of this iteration
	my @log = map { [ split /\|/, $_, -1 ] } split /\n/, sql(qq{
		SELECT id, run_id, revision, direction, attempt, outcome, coalesce(sqlstate, ''), backend_pid,
		       replace(coalesce(error_message, ''), '|', '/')
		FROM pgmigrate.migrate_log ORDER BY id});
	check('no-internal-error');
	foreach my $l (@log)
	{
		next if $l->[0] <= $last_log_id;
		violation('no-internal-error', "migrate_log id $l->[0] ($l->[2] $l->[3] $l->[5]) has SQLSTATE $l->[6]: $l->[8]")
		  if $l->[6] =~ /^XX/;
	}

	# started-has-outcome
	check('started-has-outcome');
	my %by_run;
	push @{ $by_run{ $_->[1] } }, $_ foreach @log;
	foreach my $run (sort { $a <=> $b } keys %by_run)
	{
		my @rows = @{ $by_run{$run} };
		next if $rows[-1][0] <= $last_log_id;	# checked in an earlier iteration
		for my $i (0 .. $#rows)
		{
			my $s = $rows[$i];
			next unless $s->[5] eq 'started';
			my @o = grep { $_->[0] > $s->[0] && $_->[2] eq $s->[2] && $_->[3] eq $s->[3]
				  && $_->[4] == $s->[4] && $_->[5] ne 'started' } @rows;
			next if @o == 1;
			if (@o > 1)
			{
				violation('started-has-outcome', "run $run: started row $s->[0] ($s->[2] $s->[3] attempt $s->[4]) has "
					  . scalar(@o) . " outcome rows");
				next;
			}
			my $died = $death_by_run{$run};
			if ($died && $i == $#rows)
			{
				$allowed{'started-without-outcome (session died)'}++;
				next;
			}
			violation('started-has-outcome', "run $run: started row $s->[0] ($s->[2] $s->[3] attempt $s->[4]) "
				  . "has no outcome row, and the run's session "
				  . ($died ? "died but the row is not its last" : "survived (the call returned an error or success)"));
		}
	}

	# the effects
	my @eff = map { [ split /\|/, $_, -1 ] } split /\n/, sql(q{
		SELECT id, revision, direction, phase, pid, logmax, extract(epoch FROM at) FROM public.fx_effects ORDER BY id});
	my %tx = map { $_->{rev} => $_->{tx} } @chain;
	my (%execs);	# rev => [ {dir, begin, end, logmax, pid, begin_at, end_at} ] in begin order
	my %open;
	foreach my $e (@eff)
	{
		my ($id, $rev, $dir, $phase, $pid, $logmax, $at) = @$e;
		if ($phase eq 'tx')
		{
			push @{ $execs{$rev} }, { dir => $dir, begin => $id, end => $id, logmax => $logmax, pid => $pid };
		}
		elsif ($phase eq 'begin')
		{
			my $x = { dir => $dir, begin => $id, end => undef, logmax => $logmax, pid => $pid, begin_at => $at };
			push @{ $execs{$rev} }, $x;
			$open{"$rev/$dir/$pid"} = $x;
		}
		else
		{
			my $x = delete $open{"$rev/$dir/$pid"};
			if ($x) { $x->{end} = $id; $x->{end_at} = $at; }
		}
	}
	my %success;	# "rev/dir" => [log ids of success]
	foreach my $l (@log)
	{
		push @{ $success{"$l->[2]/$l->[3]"} }, $l->[0] if $l->[5] eq 'success';
	}
	check('no-step-twice');
	foreach my $rev (keys %execs)
	{
		my @x = @{ $execs{$rev} };
		for my $i (0 .. $#x)
		{
			for my $j ($i + 1 .. $#x)
			{
				# concurrent: a later execution began before an earlier one ended
				if (defined $x[$i]{end} && $x[$i]{end} > $x[$j]{begin})
				{
					next if $x[$i]{reported} && $x[$j]{reported};
					$x[$i]{reported} = $x[$j]{reported} = 1;
					violation('no-step-twice', sprintf("revision %s: %s by pid %d (effects %d..%d) and %s by pid %d "
						  . "(effect %d..) ran at the same time", $rev, $x[$i]{dir}, $x[$i]{pid}, $x[$i]{begin},
						  $x[$i]{end}, $x[$j]{dir}, $x[$j]{pid}, $x[$j]{begin}));
				}
			}
			next if $i == 0;
			my ($p, $c) = ($x[ $i - 1 ], $x[$i]);
			next unless $p->{dir} eq $c->{dir};
			my @s = grep { $_ > $p->{logmax} && $_ <= $c->{logmax} } @{ $success{"$rev/$c->{dir}"} || [] };
			if (@s)
			{
				violation('no-step-twice', "revision $rev: $c->{dir} ran again (effect $c->{begin}, pid $c->{pid}) "
					  . "after its success was logged (log id $s[0]) with no $c->{dir} undone in between")
				  unless $c->{reported}++;
			}
			elsif (!$tx{$rev})
			{
				$allowed{'non-tx step repeated after a cut-short attempt (README)'}++;
			}
		}
	}

	# state-matches-effects / no-invalid-index
	check('state-matches-effects');
	check('no-invalid-index');
	my $cur = sql(q{SELECT coalesce(string_agg(revision, ',' ORDER BY revision), '') FROM migrate_current()});
	my $ver = sql(q{SELECT coalesce(string_agg(revision, ',' ORDER BY revision), '') FROM pgmigrate.migrate_version});
	violation('state-matches-effects', "migrate_current() = {$cur} but pgmigrate.migrate_version = {$ver}")
	  if $cur ne $ver;
	my %applied;
	if ($cur ne '')
	{
		my @heads = split /,/, $cur;
		violation('state-matches-effects', "linear chain has several applied heads: $cur") if @heads > 1;
		foreach my $r (@chain) { $applied{ $r->{rev} } = 1; last if $r->{rev} eq $heads[0]; }
	}
	my %tables = map { $_ => 1 } split /\n/, sql(q{SELECT relname FROM pg_class WHERE relname LIKE 'fx\_g%' AND relkind = 'r'});
	my %indexes = map { my ($n, $v) = split /\|/; ($n => $v) } split /\n/, sql(q{
		SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'fx\_g%\_idx'});
	my %lastlog;
	foreach my $l (@log) { $lastlog{ $l->[2] } = $l; }
	foreach my $r (@chain)
	{
		my $rev = $r->{rev};
		my $ap = $applied{$rev} ? 1 : 0;
		my @x = @{ $execs{$rev} || [] };
		if ($r->{tx})
		{
			my $has = $tables{"fx_$rev"} ? 1 : 0;
			my $eff = (@x && $x[-1]{dir} eq 'upgrade') ? 1 : 0;
			violation('state-matches-effects', "transactional $rev: recorded " . ($ap ? 'applied' : 'not applied')
				  . ", table fx_$rev " . ($has ? 'exists' : 'missing') . ", last effect "
				  . (@x ? $x[-1]{dir} : 'none'))
			  if $ap != $has || $ap != $eff;
			next;
		}
		my $idx = $indexes{"fx_${rev}_idx"};
		my $ll = $lastlog{$rev};
		my $cut = $ll && $ll->[5] ne 'success';
		if ($ap && !defined $idx)
		{
			# the README window: the session died after the worker finished
			# a downgrade, before the step was recorded
			my $last = $x[-1];
			if ($cut && $last && $last->{dir} eq 'downgrade' && $death_by_run{ $ll->[1] }
				&& defined $last->{end_at} && $last->{end_at} <= $death_by_run{ $ll->[1] })
			{
				$allowed{'downgrade done, session died before recording it (README)'}++;
			}
			else
			{
				violation('state-matches-effects', "non-transactional $rev: recorded applied but its index "
					  . "fx_${rev}_idx is missing (last log row: "
					  . ($ll ? "$ll->[3] $ll->[5] run $ll->[1]" : 'none') . "; last execution: "
					  . ($last ? "$last->{dir} by pid $last->{pid}"
						  . (defined $last->{end_at} && $ll && $death_by_run{ $ll->[1] }
							  ? sprintf(", ended %.3f s after its session died", $last->{end_at} - $death_by_run{ $ll->[1] })
							  : '') : 'none') . ")");
			}
		}
		if ($ap && defined $idx && $idx eq 'f')
		{
			violation('no-invalid-index', "non-transactional $rev is recorded applied but its index fx_${rev}_idx is invalid");
		}
		if (!$ap && defined $idx)
		{
			if ($cut) { $allowed{'partial non-tx step after cut-short/failed attempt'}++; }
			else
			{
				violation('state-matches-effects', "non-transactional $rev: recorded not applied but its index "
					  . "fx_${rev}_idx exists (valid: $idx); last log row: "
					  . ($ll ? "$ll->[3] $ll->[5] run $ll->[1]" : 'none'));
			}
		}
	}
	$last_log_id = @log ? $log[-1][0] : $last_log_id;
}

# --- the iterations --------------------------------------------------------
my $t0 = time;
new_generation();
while ($iter < $iterations && time - $t0 < $seconds)
{
	$iter++;
	new_generation() if $iter % 15 == 0;
	my $fault = next_fault();
	my $cmd = random_command(0);
	my $cmd_arbitrary = $last_arbitrary;
	# a fault meant for a worker needs a CALL whose plan has a non-transactional step
	if ($fault =~ /worker/ || rand() < 0.85)
	{
		for (1 .. 20)
		{
			last if plan_has_nontx($cmd);
			$cmd = random_command(1);
			$cmd_arbitrary = $last_arbitrary;
		}
	}
	my $wait_worker = $fault =~ /worker/ || ($fault ne 'none' && rand() < 0.85);
	my $est = 0;
	$est += $_->{sleep} + ($_->{tx} ? 0.02 : 0.3) foreach @chain;
	my $delay = rand($est * 0.7);
	my $small = rand(0.3);

	%victim_workers = ();
	$victim_pid = undef;
	my $victim = background('pgm_fault_victim', $cmd);
	my ($vpid, $deadline) = (undef, time + 10);
	while (!defined $vpid && time < $deadline)
	{
		my ($rc, $out) = $node->psql('postgres',
			q{SELECT pid FROM pg_stat_activity WHERE application_name = 'pgm_fault_victim'});
		$vpid = $victim_pid = $out if $rc == 0 && $out =~ /^\d+$/;
		last unless $victim->{h}->pumpable;
		sleep 0.01 unless defined $vpid;
	}
	# the fault point: a random delay, or shortly after a worker starts
	my @w;
	if ($wait_worker)
	{
		my $wd = time + $est;
		while (time < $wd && $victim->{h}->pumpable)
		{
			@w = grep { $_->{type} eq 'pg_migrate worker' } pgm_workers();
			last if @w;
			sleep 0.02;
		}
		sleep $small if @w;
	}
	else { sleep $delay; }
	@w = grep { $_->{type} eq 'pg_migrate worker' } pgm_workers() if $fault =~ /worker/;
	my $applied_fault = $fault;
	$cur_fault = $fault;
	$applied_fault = 'none' if $fault =~ /session/ && !$vpid;
	$applied_fault =~ s/worker/session/ if $fault =~ /worker/ && !@w;
	$applied_fault = 'none' if $applied_fault =~ /session/ && !$vpid;
	my $still = $victim->{h}->pumpable;
	$applied_fault = 'none (call had ended)' if !$still && $applied_fault ne 'none' && $applied_fault !~ /immediate/;
	$fault_count{$applied_fault}++;
	$cur_fault = $applied_fault;
	my $kill_at = sql('SELECT extract(epoch FROM clock_timestamp())') + 0;
	if ($applied_fault eq 'cancel_session') { sql("SELECT pg_cancel_backend($vpid)"); }
	elsif ($applied_fault eq 'terminate_session') { sql("SELECT pg_terminate_backend($vpid)"); }
	elsif ($applied_fault eq 'kill9_session') { kill 'KILL', $vpid; }
	elsif ($applied_fault eq 'cancel_worker') { sql("SELECT pg_cancel_backend($_->{pid})") foreach @w; }
	elsif ($applied_fault eq 'terminate_worker') { sql("SELECT pg_terminate_backend($_->{pid})") foreach @w; }
	elsif ($applied_fault eq 'kill9_worker') { kill 'KILL', $_->{pid} foreach @w; }
	elsif ($applied_fault eq 'immediate_restart')
	{
		$node->stop('immediate');
		start_node(0);
	}

	check('call-returns');
	unless (finish_call($victim, 90))
	{
		violation('call-returns', "`$cmd` did not return 90 s after fault $applied_fault");
		sql("SELECT pg_cancel_backend($vpid)") if $vpid;
		sleep 1;
		sql("SELECT pg_terminate_backend($vpid)") if $vpid;
		$victim->{h}->kill_kill;
	}
	my $verr = ${ $victim->{err} };
	my $died = $verr =~ /server closed the connection|connection to server was lost|FATAL:|terminating connection/ ? 1 : 0;
	wait_ready();
	my $death_at = sql('SELECT extract(epoch FROM clock_timestamp())') + 0;
	if ($died && $vpid)
	{
		# pg_stat_activity is gone for it by now (wait_ready only needs a new session)
		my $dl = time + 10;
		while (time < $dl && sql("SELECT count(*) FROM pg_stat_activity WHERE pid = $vpid") ne '0') { sleep 0.02; }
		$death_at = sql('SELECT extract(epoch FROM clock_timestamp())') + 0;
		foreach my $run (split /\n/, sql("SELECT DISTINCT run_id FROM pgmigrate.migrate_log WHERE backend_pid = $vpid AND id > $last_log_id"))
		{
			$death_by_run{$run} = $death_at;
		}
	}
	my @xx = grep { /^XX/ } sqlstates_of($verr);
	violation('no-internal-error', "`$cmd` failed with SQLSTATE $xx[0] after fault $applied_fault: "
		  . (($verr =~ /(ERROR:\s+XX\d\d\d:[^\n]*)/)[0] // '')) if @xx;
	if ($applied_fault =~ /^(none|cancel_worker)$/ && $died)
	{
		violation('no-internal-error', "`$cmd` lost its connection with no kill (fault $applied_fault): $verr");
	}

	# no-orphan-worker: 2 s after the victim is gone, nothing may serve it
	check('no-orphan-worker');
	if ($died || !$victim->{h}->pumpable)
	{
		# a worker gets SIGTERM when its session exits; 0.5 s is plenty to go
		my $od = time + 0.5;
		my @orphans;
		do
		{
			my %live = live_backends();
			@orphans = grep { !defined $_->{leader} || !$live{ $_->{leader} } } pgm_workers();
			sleep 0.1 if @orphans;
		} while (@orphans && time < $od);
		if (@orphans)
		{
			violation('no-orphan-worker', "after fault $applied_fault on `$cmd`: "
				  . join('; ', map { "$_->{type} pid $_->{pid} ($_->{title}) still runs: $_->{query}" } @orphans));
		}
	}

	# the recovery call: a deploy job retrying at once, same command or another
	my $rcmd = rand() < 0.5 && !$cmd_arbitrary && $cmd =~ /^CALL/ && $cmd !~ /single_transaction/ ? $cmd : random_command(1);
	my $rec = background('pgm_fault_recovery', $rcmd);
	check('recovery-succeeds');
	if (!finish_call($rec, 90))
	{
		violation('call-returns', "recovery `$rcmd` did not return in 90 s");
		$node->psql('postgres', q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgm_fault_recovery'});
		$rec->{h}->kill_kill;
	}
	elsif ($rec->{h}->result != 0)
	{
		my $e = ${ $rec->{err} };
		my @ss = sqlstates_of($e);
		violation('no-internal-error', "recovery `$rcmd` failed with $ss[0]") if @ss && $ss[0] =~ /^XX/;
		violation('recovery-succeeds', "recovery `$rcmd` failed (SQLSTATE " . ($ss[0] // '?') . "): "
			  . join(' | ', grep { /ERROR|DETAIL/ } split /\n/, $e));
	}

	if ($died && %victim_workers)
	{
		my $dl = time + 90;
		while (time < $dl && grep { $victim_workers{ $_->{pid} } } pgm_workers()) { sleep 0.1; }
		my $pids = join(',', sort keys %victim_workers);
		foreach my $row (split /\n/, sql(qq{SELECT id, revision, direction, phase, pid,
				round((extract(epoch FROM at) - $death_at)::numeric, 3)
				FROM public.fx_effects WHERE pid IN ($pids) AND extract(epoch FROM at) > $death_at + 0.5 ORDER BY id}))
		{
			my ($id, $rev, $dir, $phase, $pid, $late) = split /\|/, $row;
			violation('no-orphan-worker', "worker pid $pid of the killed session $vpid wrote effect $id ($rev $dir $phase) "
				  . "$late s after the session died, with no migration lock held for it");
		}
	}

	note(sprintf("iteration %d: `%s` fault %s (victim %s) then `%s`", $iter, $cmd, $applied_fault,
		$died ? 'died' : 'returned', $rcmd));
	check_state();
}

my $elapsed = time - $t0;
diag(sprintf("seed %d: %d iterations in %.0f s; faults: %s", $seed, $iter, $elapsed,
	join(', ', map { "$_ $fault_count{$_}" } sort keys %fault_count)));
diag("violations by known finding: " . join(', ', map { my $k = $_; (my $n = $k) =~ s/^ \[|\]$//g; "$n: $by_finding{$k}" } sort keys %by_finding)) if %by_finding;
diag("README-allowed outcomes seen: " . join(', ', map { "$_: $allowed{$_}" } sort keys %allowed)) if %allowed;
foreach my $inv (@INVARIANTS)
{
	my $first = (grep { $_->[0] eq $inv } @first_violation)[0];
	ok($violations{$inv} == 0, "invariant $inv: $violations{$inv} violation(s) in $checked{$inv} check(s)"
		  . ($first ? " (first at seed $seed iteration $first->[1])" : ''));
}
if (grep { $violations{$_} } @INVARIANTS)
{
	diag("FAILED: seed $seed; reproduce with test/fault/run --seed $seed --iterations $iter");
}
$node->stop('fast', fail_ok => 1);
done_testing();
