# test/tap.sh: the TAP helper of the shell tests; source it.
#
# ok STATUS DESCRIPTION [DIAGNOSTIC] prints "ok N - DESCRIPTION" when STATUS
# is 0, else "not ok N - ..." with the diagnostic as a comment, and counts
# failures in FAILED, which the test's last line turns into its exit code.
N=0
FAILED=0

ok() {
	N=$((N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $N - $2"
	else
		echo "not ok $N - $2"
		[ -n "${3:-}" ] && printf '#   %s\n' "$3" | head -20
		FAILED=$((FAILED + 1))
	fi
}
