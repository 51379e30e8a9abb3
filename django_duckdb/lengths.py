"""
The CHECK that stands in for VARCHAR(n), which DuckDB accepts but ignores:
written here (MaxLengthCheck) and read back here (parse_length_check), by
introspection and by the error translation in dbapi.
"""

import re

# As DuckDB prints it: "(length(name) <= 20)" or '(length("select") <= 20)'.
_PRINTED_RE = re.compile(r"^\(length\((?P<column>.+)\) <= (?P<length>\d+)\)$")


class MaxLengthCheck:
    """
    A data_type_check_constraints entry: length() counts characters, as
    Python's len() and PostgreSQL's varchar(n) do. None (no CHECK) for a
    CharField without max_length.
    """

    template = 'length("%(column)s") <= %(max_length)s'

    def __mod__(self, data):
        if data["max_length"] is None:
            return None
        return self.template % data


def parse_length_check(expression):
    """(column as printed, n) for a printed length CHECK, else None."""
    match = _PRINTED_RE.match((expression or "").strip())
    if not match:
        return None
    return match["column"], int(match["length"])
