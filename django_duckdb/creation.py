import os
import sys
from pathlib import Path

from django.db.backends.base.creation import BaseDatabaseCreation

from . import registry


def database_files(name):
    """The database file and the files DuckDB keeps next to it."""
    return [name, name + ".wal", name + ".wait"]


class DatabaseCreation(BaseDatabaseCreation):
    @staticmethod
    def is_in_memory_db(database_name):
        return not isinstance(database_name, Path) and (not database_name or registry.is_memory(database_name))

    def _get_test_db_name(self):
        """
        TEST NAME, or "test_<basename>" next to the database file, or a named
        in-memory database per alias (":memory:test_<alias>").
        """
        test_name = self.connection.settings_dict["TEST"]["NAME"]
        if test_name:
            return str(test_name)
        name = self.connection.settings_dict["NAME"]
        if self.is_in_memory_db(name):
            return f"{registry.MEMORY}test_{self.connection.alias}"
        name = str(name)
        return os.path.join(os.path.dirname(name), "test_" + os.path.basename(name))

    def _create_test_db(self, verbosity, autoclobber, keepdb=False):
        test_database_name = self._get_test_db_name()
        if keepdb:
            return test_database_name
        if self.is_in_memory_db(test_database_name):
            # A fresh in-memory database for this run.
            registry.close_instance(test_database_name)
            return test_database_name
        if verbosity >= 1:
            self.log(
                "Destroying old test database for alias %s..."
                % (self._get_database_display_str(verbosity, test_database_name),)
            )
        if os.access(test_database_name, os.F_OK):
            if not autoclobber:
                confirm = input(
                    "Type 'yes' if you would like to try deleting the test "
                    "database '%s', or 'no' to cancel: " % test_database_name
                )
            if autoclobber or confirm == "yes":
                try:
                    self._remove_files(test_database_name)
                except Exception as e:
                    self.log("Got an error deleting the old test database: %s" % e)
                    sys.exit(2)
            else:
                self.log("Tests cancelled.")
                sys.exit(1)
        else:
            self._remove_files(test_database_name)
        os.makedirs(os.path.dirname(os.path.abspath(test_database_name)), exist_ok=True)
        return test_database_name

    @staticmethod
    def _remove_files(name):
        registry.close_instance(name)
        for path in database_files(name):
            try:
                os.remove(path)
            except FileNotFoundError:
                pass

    def _destroy_test_db(self, test_database_name, verbosity):
        if not test_database_name:
            return
        if self.is_in_memory_db(test_database_name):
            registry.close_instance(test_database_name)
        else:
            self._remove_files(test_database_name)

    def test_db_signature(self):
        test_database_name = self._get_test_db_name()
        sig = [self.connection.settings_dict["NAME"]]
        if self.is_in_memory_db(test_database_name):
            sig.append(self.connection.alias)
        else:
            sig.append(test_database_name)
        return tuple(sig)
