"""
One DuckDB database instance per process and file, shared by its threads.

DuckDB lets a single process open a database file read-write; inside that
process any number of threads may use connections ("cursors") of the one
instance. The web server, the Celery worker and management commands are
separate processes, so they have to take turns on the file. This module is
the turn-taking:

* ``Instance.acquire()`` leases a DuckDB connection for one unit of work (a
  statement in autocommit mode, or a whole transaction); ``release()`` gives
  it back. The file is opened by the first lease and kept open while leases
  come and go.
* When the file is held by another process, the opener announces itself by
  holding a shared ``flock`` on the side file ``<db>.wait`` and polls the
  database file's lock (``F_GETLK``, a few microseconds) until it is free,
  then opens it. It gives up after ``lock_timeout`` seconds with an
  ``OperationalError`` naming the holding program and PID.
* The holder notices a waiter (a non-blocking exclusive ``flock`` probe on the
  side file fails). From then on it "drains": new leases wait (threads that
  already hold a lease, e.g. inside a transaction, are never blocked), and
  when the last lease is released the instance is closed so the waiter gets
  the file. Afterwards the yielding process lets the waiter open first
  before competing again, so two busy processes alternate instead of one
  starving the other.
* Nobody waiting and no lease for ``idle_timeout`` seconds: a janitor thread
  closes the instance, so an idle process never keeps the file. A busy
  process with nobody waiting never pays for re-opening the file.
* Instances are never used across ``fork()``. DuckDB caches open databases
  per process, so a child would get the parent's instance back (without the
  file lock, which isn't inherited) and its writes would go astray. Before
  a fork the parent therefore closes its file instances (waiting briefly
  for work in progress to finish); the child starts with none and opens
  its own. An instance that was still busy at the fork is refused in the
  child.
* At interpreter exit every instance is closed (final checkpoint).

In-memory databases (``:memory:`` or ``:memory:<name>``) have no file and no
other process: they are opened once and kept until exit or an explicit
close (closing destroys the data).

The file-lock probe and the side file live in filelock.py.
"""

import atexit
import functools
import os
import threading
import time
import weakref
from collections import Counter

import duckdb

from . import dbapi
from .filelock import WaitFile, describe_holder, file_lock_holder, is_lock_conflict

MEMORY = ":memory:"


def is_memory(name):
    return isinstance(name, str) and name.startswith(MEMORY)


class Session:
    """A DuckDB connection of an instance, plus the session settings applied."""

    __slots__ = ("conn", "settings", "generation", "holder")

    def __init__(self, conn, generation):
        self.conn = conn
        self.settings = {}
        self.generation = generation
        self.holder = None  # the thread that leased it


class Instance:
    def __init__(self, path, config=None, lock_timeout=30.0, idle_timeout=1.0, on_open=()):
        self.path = path
        self.memory = is_memory(path)
        self.config = dict(config or {})
        # Run on every newly opened instance: SQL statements (settings that
        # can't be passed to connect(), e.g. those needing an extension) or
        # callables taking the root connection (Python functions, which
        # belong to the root: a function registered through a cursor dies
        # with that cursor).
        self.on_open = list(on_open)
        _all_instances.add(self)
        self.lock_timeout = float(lock_timeout)
        self.idle_timeout = float(idle_timeout)
        # How often the holder looks for waiting processes; how often a
        # waiting process looks at the file lock.
        self.probe_interval = 0.02
        self.poll_interval = 0.002
        # After yielding the file, let the waiter open it first (bounded).
        self.courtesy_timeout = 1.0
        self.wait_path = None if self.memory else path + ".wait"
        self._reset()

    def _reset(self):
        self._pid = os.getpid()
        # Set in a child when the parent couldn't close the instance before
        # fork(): DuckDB would hand the child the parent's copy.
        self._inherited_open = False
        self._forking = False
        self._cond = threading.Condition(threading.Lock())
        self._root = None
        self._generation = 0
        self._idle = []
        self._users = 0
        self._holders = Counter()
        self._opening = False
        self._draining = False
        self._yielded_at = None
        self._last_release = time.monotonic()
        self._janitor = None
        self._last_holder = None
        self._wait_file = WaitFile(self.wait_path)
        # Statistics, for tests and benchmarks.
        self.opens = 0
        self.yields = 0

    # -- public API ---------------------------------------------------------

    def acquire(self, timeout=None):
        """Lease a Session; the caller must release() it."""
        if self._pid != os.getpid():
            self._reset()  # inherited through fork(): never use the parent's
        if self._inherited_open:
            raise dbapi.OperationalError(
                f"The DuckDB database {self.path!r} was in use by another thread "
                "when this process was forked; DuckDB can't reopen it in the "
                "child. Fork before using the database, or spawn instead."
            )
        timeout = self.lock_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        me = threading.get_ident()
        with self._cond:
            while True:
                if self._root is not None and (not (self._draining or self._forking) or self._holders[me]):
                    return self._lease_locked(me)
                if self._root is None and not self._opening:
                    self._opening = True
                    break
                # Another thread is opening the file, or the instance is
                # being drained for a waiting process: wait our turn.
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._timeout_error(timeout, opener=False)
                self._cond.wait(min(remaining, 0.05))
        try:
            root = self._open(deadline, timeout)
            try:
                for step in self.on_open:
                    if callable(step):
                        step(root)
                    else:
                        root.execute(step)
            except BaseException:
                _close_quietly(root)
                raise
        except BaseException:
            with self._cond:
                self._opening = False
                self._cond.notify_all()
            raise
        with self._cond:
            self._opening = False
            self._root = root
            self._generation += 1
            self._draining = False
            self._last_release = time.monotonic()
            self.opens += 1
            if not self.memory:
                self._start_janitor()
            self._cond.notify_all()
            return self._lease_locked(me)

    def release(self, session, discard=False):
        if self._pid != os.getpid():
            return  # a lease taken before fork(); the child's instance is new
        # The lease may be given back from another thread than took it.
        holder = session.holder
        with self._cond:
            self._users -= 1
            self._holders[holder] -= 1
            if self._holders[holder] <= 0:
                del self._holders[holder]
            if discard or session.generation != self._generation or self._root is None:
                _close_quietly(session.conn)
            else:
                self._idle.append(session)
            self._last_release = time.monotonic()
            if self._users == 0 and not self.memory:
                if self._draining or self.idle_timeout <= 0:
                    self._close_locked(yielded=self._draining)

    def close(self):
        """Close the instance now (at exit, or before deleting the file)."""
        with self._cond:
            if self._pid != os.getpid():
                return
            self._close_locked(yielded=False)

    @property
    def is_open(self):
        return self._pid == os.getpid() and self._root is not None

    @property
    def users(self):
        return self._users if self._pid == os.getpid() else 0

    # -- internals ----------------------------------------------------------

    def _lease_locked(self, me):
        self._users += 1
        self._holders[me] += 1
        session = self._idle.pop() if self._idle else Session(self._root.cursor(), self._generation)
        session.holder = me
        return session

    def _close_locked(self, yielded):
        root, self._root = self._root, None
        idle, self._idle = self._idle, []
        self._draining = False
        if root is None:
            return
        self._generation += 1
        for session in idle:
            _close_quietly(session.conn)
        # Closing the root also closes cursors still leased (a thread that
        # died mid-transaction); they fail with "Connection already closed".
        _close_quietly(root)
        if yielded:
            self.yields += 1
            self._yielded_at = time.monotonic()
        self._cond.notify_all()

    def _open(self, deadline, timeout):
        if self.memory:
            return duckdb.connect(self.path, config=self.config)
        if self._yielded_at is not None:
            self._let_waiter_in(deadline)
        announced = False
        try:
            while True:
                holder = file_lock_holder(self.path)
                if holder:
                    self._last_holder = describe_holder(None, holder)
                else:  # free (0) or unknown (None): try it
                    try:
                        return duckdb.connect(self.path, config=self.config)
                    except duckdb.IOException as exc:
                        if not is_lock_conflict(exc):
                            raise
                        self._last_holder = describe_holder(str(exc))
                if not announced:
                    self._wait_file.announce()
                    announced = True
                if time.monotonic() >= deadline:
                    raise self._timeout_error(timeout, opener=True)
                time.sleep(self.poll_interval)
        finally:
            if announced:
                self._wait_file.unannounce()

    def _let_waiter_in(self, deadline):
        """We just yielded the file: wait until the waiter has taken it."""
        until = min(deadline, self._yielded_at + self.courtesy_timeout)
        self._yielded_at = None
        while time.monotonic() < until and self._wait_file.waiter_exists():
            time.sleep(self.poll_interval)

    def _timeout_error(self, timeout, opener):
        # Never probe the file here: another thread may have it open through
        # DuckDB, and closing a probe descriptor would drop that lock.
        if not opener and self._root is not None:
            holder = (
                f"this process (PID {os.getpid()}), which is handing it over "
                "to a waiting process and still has work in progress"
            )
        else:
            holder = self._last_holder or "another process"
        return dbapi.OperationalError(
            f"Timed out after {timeout:g}s waiting for the DuckDB database "
            f"file {self.path!r}, held by {holder}. Raise "
            "DATABASES[...]['OPTIONS']['lock_timeout'] or keep units of work "
            "(requests, tasks, transactions) short."
        )

    def _start_janitor(self):
        if self._janitor is not None and self._janitor.is_alive():
            return
        self._janitor = threading.Thread(
            target=self._janitor_loop,
            name=f"duckdb-janitor-{os.path.basename(self.path)}",
            daemon=True,
        )
        self._janitor.start()

    def _janitor_loop(self):
        pid = os.getpid()
        while True:
            # The probe is a system call: made without the lock every lease and
            # release takes, so statements never queue behind it.
            waiter = self._wait_file.waiter_exists()
            with self._cond:
                if self._root is None or self._pid != pid:
                    self._janitor = None
                    return
                if waiter != self._draining:
                    self._draining = waiter
                    if not waiter:
                        self._cond.notify_all()
                if self._users == 0 and (waiter or time.monotonic() - self._last_release >= self.idle_timeout):
                    self._close_locked(yielded=waiter)
                    self._janitor = None
                    return
            time.sleep(self.probe_interval)

    # fork() support (see the module docstring).

    def _before_fork(self, wait=5.0):
        if self.memory or self._pid != os.getpid():
            return
        me = threading.get_ident()
        with self._cond:
            if self._root is None:
                return
            self._forking = True  # new leases wait
            deadline = time.monotonic() + wait
            while self._users > self._holders[me] and time.monotonic() < deadline:
                self._cond.wait(0.01)
            if self._users == 0:
                self._close_locked(yielded=False)
            else:
                self._busy_at_fork = True

    def _after_fork_in_parent(self):
        with self._cond:
            self._forking = False
            self._busy_at_fork = False
            self._cond.notify_all()

    def _after_fork_in_child(self):
        busy = getattr(self, "_busy_at_fork", False) and not self.memory
        self._reset()
        self._inherited_open = busy


def _close_quietly(conn):
    try:
        conn.close()
    except Exception:
        pass


_instances: dict[str, Instance] = {}
_instances_lock = threading.Lock()
# Every Instance, registered or not, for the fork handlers.
_all_instances: weakref.WeakSet[Instance] = weakref.WeakSet()


@functools.lru_cache(maxsize=64)
def _resolved(name):
    # Every new connection asks for its instance: resolve each name once, not with a
    # stat() per path component each time.
    return name if is_memory(name) else os.path.realpath(os.fspath(name))


def get_instance(name, config=None, lock_timeout=30.0, idle_timeout=1.0, on_open=()):
    """The process-wide Instance for a database file (or ':memory:')."""
    path = _resolved(name)
    with _instances_lock:
        instance = _instances.get(path)
        if instance is None:
            instance = _instances[path] = Instance(path, config, lock_timeout, idle_timeout, on_open)
        else:
            # Timeouts may be changed by a later settings dict (tests).
            instance.lock_timeout = float(lock_timeout)
            instance.idle_timeout = float(idle_timeout)
        return instance


def close_instance(name):
    """Close the instance for ``name`` now (e.g. before deleting the file)."""
    path = name if is_memory(name) else os.path.realpath(os.fspath(name))
    with _instances_lock:
        instance = _instances.get(path)
    if instance is not None:
        instance.close()


def close_all():
    with _instances_lock:
        instances = list(_instances.values())
    for instance in instances:
        instance.close()


def _before_fork():
    for instance in list(_all_instances):
        instance._before_fork()


def _after_fork_in_parent():
    for instance in list(_all_instances):
        instance._after_fork_in_parent()


def _after_fork_in_child():
    # The parent's instances (and their locks and threads) don't exist here.
    global _instances_lock
    _instances_lock = threading.Lock()
    for instance in list(_all_instances):
        instance._after_fork_in_child()


atexit.register(close_all)
os.register_at_fork(
    before=_before_fork,
    after_in_parent=_after_fork_in_parent,
    after_in_child=_after_fork_in_child,
)
