"""W1-W9 for asyncio on uvloop: workloads/asyncio.py's coroutines, run by uvloop.run."""

from __future__ import annotations

from functools import partial

import uvloop

from . import asyncio as _aio

spawn = partial(_aio.spawn, run=uvloop.run)
ping_pong = partial(_aio.ping_pong, run=uvloop.run)
buffered = partial(_aio.buffered, run=uvloop.run)
daisy_chain = partial(_aio.daisy_chain, run=uvloop.run)
prime_sieve = partial(_aio.prime_sieve, run=uvloop.run)
select_fan_in = partial(_aio.select_fan_in, run=uvloop.run)
worker_pool = partial(_aio.worker_pool, run=uvloop.run)
memory = partial(_aio.memory, run=uvloop.run)
timers = partial(_aio.timers, run=uvloop.run)
