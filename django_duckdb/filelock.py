"""
Telling whether another process holds a DuckDB database file, and the side
file through which a waiting process asks the holder for its turn (see
registry.py).

* ``file_lock_holder()`` asks the kernel which process holds the database
  file's POSIX write lock (``F_GETLK``) without opening it through DuckDB.
* ``is_lock_conflict()`` / ``describe_holder()`` read DuckDB's "Could not set
  lock on file" errors.
* ``WaitFile`` is ``<db>.wait``: waiting processes hold a shared ``flock`` on
  it; the holder probes it with a non-blocking exclusive ``flock``.
"""

import fcntl
import os
import re
import struct

# struct flock on Linux/x86_64 and aarch64: short l_type, short l_whence,
# off_t l_start, off_t l_len, pid_t l_pid (+ padding).
_FLOCK_FMT = "hhqqi4x"

_LOCK_ERROR_RE = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


def is_lock_conflict(exc):
    return "Could not set lock on file" in str(exc) or "Conflicting lock" in str(exc)


def describe_holder(message, pid=None):
    """'<program> (PID n)' from DuckDB's lock error text, or from /proc."""
    match = _LOCK_ERROR_RE.search(message or "")
    if match:
        return f"{match['program']} (PID {match['pid']})"
    if pid:
        return f"{_program_of(pid)} (PID {pid})"
    return "another process"


def _program_of(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[0].decode(errors="replace") or "unknown"
    except OSError:
        return "unknown"


def file_lock_holder(path):
    """
    PID of the process holding a POSIX write lock on ``path``, 0 if the file
    is free, None if it can't be told (then just try to open it).

    Only call this while this process does not have the file open through
    DuckDB: closing any descriptor of a file drops *all* of the process's
    POSIX locks on it.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return 0
    except OSError:
        return None
    try:
        query = struct.pack(_FLOCK_FMT, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        l_type, _, _, _, l_pid = struct.unpack(_FLOCK_FMT, fcntl.fcntl(fd, fcntl.F_GETLK, query))
    except (OSError, struct.error):
        return None
    finally:
        os.close(fd)
    return 0 if l_type == fcntl.F_UNLCK else l_pid


class WaitFile:
    """The side file ``<db>.wait`` of one database file."""

    def __init__(self, path):
        self.path = path
        self._probe_fd = None
        self._wait_fd = None

    def _open(self):
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)

    def announce(self):
        """Say that this process waits for the file (a shared flock)."""
        try:
            self._wait_fd = self._open()
            fcntl.flock(self._wait_fd, fcntl.LOCK_SH)
        except OSError:
            self._wait_fd = None

    def unannounce(self):
        fd, self._wait_fd = self._wait_fd, None
        if fd is not None:
            os.close(fd)  # drops the flock

    def waiter_exists(self):
        """Whether another process waits (the exclusive probe fails)."""
        try:
            if self._probe_fd is None:
                self._probe_fd = self._open()
            fcntl.flock(self._probe_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        fcntl.flock(self._probe_fd, fcntl.LOCK_UN)
        return False
