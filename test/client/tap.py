"""TAP output for the Python client tests (test/client/*_client.py): ok()
prints one test line, with the diagnostic of a failure as comments, and
finish() says how many failed and exits with the status prove expects."""

import sys

tests = 0
failures = 0


def ok(passed, name, diagnostic=None):
    global tests, failures
    tests += 1
    print("%s %d - %s" % ("ok" if passed else "not ok", tests, name))
    if not passed:
        failures += 1
        for line in str(diagnostic or "").splitlines():
            print("#   " + line)
    sys.stdout.flush()


def finish():
    if failures:
        print("# %d of %d tests failed" % (failures, tests))
    sys.exit(1 if failures else 0)
