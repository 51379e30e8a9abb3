"""
A DiscoverRunner that records every test's outcome as JSON (for
django_duckdb/suite/django_suite.sh, which compares django_duckdb with sqlite3 test by
test). The file is named by the DJANGO_SUITE_RESULTS environment variable.

DJANGO_SUITE_UNSKIP="<test id>,<test id>" runs tests the backend declares as
skipped (DatabaseFeatures.django_test_skips), to see whether they pass yet.
"""

import json
import os
import unittest

from django.db import connections
from django.test.runner import DiscoverRunner


class RecordingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}

    def _record(self, test, outcome, detail=None):
        test_id = test.id()
        if self.outcomes.get(test_id, ("pass",))[0] in ("fail", "error"):
            return  # a failed subtest already decided it
        self.outcomes[test_id] = (outcome, detail)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "fail", self._exc_info_to_string(err, test)[-2000:])

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", self._exc_info_to_string(err, test)[-2000:])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skip", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._record(test, "xfail")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._record(test, "pass")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self.outcomes[test.id()] = (
                "fail" if failed else "error",
                self._exc_info_to_string(err, test)[-2000:],
            )

    def stopTestRun(self):
        super().stopTestRun()
        path = os.environ.get("DJANGO_SUITE_RESULTS")
        if path:
            with open(path, "w") as f:
                json.dump(self.outcomes, f)


class RecordingRunner(DiscoverRunner):
    def get_resultclass(self):
        return RecordingResult

    def setup_databases(self, **kwargs):
        unskip = {t for t in os.environ.get("DJANGO_SUITE_UNSKIP", "").split(",") if t}
        if unskip:
            for connection in connections.all():
                for tests in connection.features.django_test_skips.values():
                    tests -= unskip
        return super().setup_databases(**kwargs)
