"""How late this machine wakes a thread that asked to sleep: the floor under every timing figure.

A thread sleeps 1 ms, again and again, as the engine's threads do, and each waking is compared
with the time asked for. On a quiet machine this stays under a tenth of a millisecond; on a
virtual machine the hypervisor can stall the whole guest for several milliseconds (seen on the
development machine: 14 wakings more than 4 ms late in 30 s, idle), and no thread of ours can
be on time through that. The live bench prints it first, so that its other figures are read
against what the machine allows.
"""

from __future__ import annotations

import time


def wakeups(seconds: float = 10.0, nap: float = 0.001) -> dict:
    """Lateness of each waking over ``seconds``: percentiles, and how often it passed 2 and 4 ms."""
    from accompanist.bench.live_bench import _pct

    late: list[float] = []
    end = time.perf_counter() + seconds
    while (t := time.perf_counter()) < end:
        time.sleep(nap)
        late.append(time.perf_counter() - t - nap)
    return {
        **_pct(late),
        "over_2ms": sum(x > 0.002 for x in late),
        "over_4ms": sum(x > 0.004 for x in late),
        "seconds": seconds,
    }
