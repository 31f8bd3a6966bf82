"""The memory allocator of a process the harness owns: fewer glibc malloc arenas.

The engine serves every request on a thread of its own, and glibc gives threads up to eight
malloc arenas per core, each keeping the memory freed in it for later. Over a long run that
retained memory, not live objects, is most of the engine's growth: in the 60 s throughput
benchmark (benchmarks/run_all.py) two arenas cut the engine's peak resident memory from 208 MB
to 184 MB at the same throughput (35 updates/s).

Only the `harness` commands call this, for their own process: the engine in someone else's
process (a pytest session) leaves that process's allocator alone. ``MALLOC_ARENA_MAX`` in the
environment, read by glibc at start-up, wins over it.
"""

from __future__ import annotations

import ctypes
import os

#: glibc's mallopt parameter number for the arena limit (malloc.h)
M_ARENA_MAX = -8
ARENAS = 2


def limit_arenas(count: int = ARENAS) -> bool:
    """Limit this process to ``count`` malloc arenas; False where that is not possible (not
    glibc) or the environment already chose (``MALLOC_ARENA_MAX``)."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, count))
