"""What instrumented code calls (instrument.py rewrites accesses into these).

The names are short on purpose: they appear in every rewritten module as
``__race__.ga(obj, "name")`` and so on.

* ``ga(o, name)``: read of an attribute; returns it.
* ``wa(o, name)``: a write of the attribute follows; returns o.
* ``gi(o, k)``: read of o[k]; returns it. ``wi(o)``: a proxy whose item
  assignment, deletion (and, for ``o[k] += v``, read) record the access.
* ``mc(o, name)``: a method about to be called; the mutating methods of the
  built-in containers are writes of the container, the others reads.
* ``rc(o)``: the container o is read as a whole (len, iteration, ``in``).
* ``rv(tok, name, value)`` / ``wv(tok, name)``: a global (tok: the module's
  globals) or a closure cell (tok: a ``scope()`` of the defining call).

A list's element is its own location (``a[i] = v`` from two goroutines on
different i is no race, as for a Go slice); every other container is one
location (a dict written by two goroutines races, as a Go map does).
"""

from __future__ import annotations

import collections
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType
from typing import Any

from .. import _atomic, _chan, _semaphore
from .._sync import mutex, once, rwmutex, waitgroup
from . import detector as _d

_read = _d.read
_write = _d.write

CONTAINERS = (list, dict, set, collections.deque, bytearray)
MUTATORS = frozenset(
    {
        "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
        "update", "setdefault", "popitem", "add", "discard", "difference_update",
        "intersection_update", "symmetric_difference_update", "appendleft",
        "extendleft", "popleft", "rotate", "__setitem__", "__delitem__", "__iadd__",
    }
)  # fmt: skip
READERS = frozenset(
    {
        "get", "keys", "values", "items", "copy", "index", "count", "__contains__",
        "__getitem__", "__len__", "union", "intersection", "difference",
        "symmetric_difference", "issubset", "issuperset", "isdisjoint",
    }
)  # fmt: skip
_SKIP = frozenset(
    {
        str, bytes, int, float, complex, bool, tuple, frozenset, range, type(None),
        BuiltinFunctionType, FunctionType, MethodType, super, slice, memoryview,
        # The synchronizing objects: their attributes are their methods (no
        # instance dict), their state is the library's, synchronized by
        # itself, and their operations are the detector's edges. Reading
        # ch.send is no data access, as ch <- v is none in Go.
        _chan.Chan, mutex.Mutex, rwmutex.RWMutex, waitgroup.WaitGroup, once.Once,
        _semaphore.Semaphore, _atomic.AtomicInt,
    }
)  # fmt: skip
_IMMUTABLE = frozenset({str, bytes, tuple, range, frozenset, memoryview})
_modules: set[int] = set()  # ids of the instrumented modules' globals


class Scope:
    """The token of one call's closure cells: (scope, name) is a location."""

    __slots__ = ("__weakref__", "name")

    def __init__(self, name: str) -> None:
        self.name = name


def scope(name: str) -> Scope:
    return Scope(name)


def module(g: dict[str, Any]) -> dict[str, Any]:
    _modules.add(id(g))
    return g


def _describe_dict(o: object, key: object) -> str:
    if id(o) in _modules and isinstance(key, str):
        assert isinstance(o, dict)
        return f"global {key!r} of module {o.get('__name__', '?')}"
    tail = f" (object at 0x{id(o):x})"
    if key is None:
        return "dict" + tail
    return f"dict element [{key!r}]" + tail


def _describe_scope(o: object, key: object) -> str:
    assert isinstance(o, Scope)
    return f"variable {key!r} of {o.name}() (closure cell at 0x{id(o):x})"


_d.describe_hooks[dict] = _describe_dict
_d.describe_hooks[Scope] = _describe_scope


def ga(o: Any, name: str) -> Any:
    t = type(o)
    if t not in _SKIP:
        if t is ModuleType:
            g = o.__dict__
            if id(g) in _modules:
                _read(g, name)
        else:
            _read(o, name)
    return getattr(o, name)


def wa(o: Any, name: str) -> Any:
    if type(o) is ModuleType:
        g = o.__dict__
        if id(g) in _modules:
            _write(g, name)
    else:
        _write(o, name)
    return o


def gi(o: Any, k: Any) -> Any:
    t = type(o)
    if t is list:
        _read(o, None)
        if type(k) is int:
            _read(o, k if k >= 0 else k + len(o))
    elif t not in _IMMUTABLE:
        _read(o, None)
    return o[k]


class _Item:
    __slots__ = ("o",)

    def __init__(self, o: Any) -> None:
        self.o = o

    def __getitem__(self, k: Any) -> Any:
        return gi(self.o, k)

    def __setitem__(self, k: Any, v: Any) -> None:
        o = self.o
        if type(o) is list and type(k) is int:
            _read(o, None)
            _write(o, k if k >= 0 else k + len(o))
        else:
            _write(o, None)
        o[k] = v

    def __delitem__(self, k: Any) -> None:
        o = self.o
        _write(o, None)
        del o[k]


def wi(o: Any) -> _Item:
    return _Item(o)


def mc(o: Any, name: str) -> Any:
    f = getattr(o, name)
    if isinstance(o, CONTAINERS):
        if name in MUTATORS:
            _write(o, None)
        else:
            _read(o, None)
    elif type(o) not in _SKIP and type(o) is not ModuleType:
        _read(o, name)
    return f


def rc(o: Any) -> Any:
    if isinstance(o, CONTAINERS):
        _read(o, None)
    return o


def rv(tok: Any, name: str, value: Any) -> Any:
    _read(tok, name)
    return value


def wv(tok: Any, name: str) -> None:
    _write(tok, name)
