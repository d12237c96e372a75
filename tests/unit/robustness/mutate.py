"""Seeded mutations of real files: byte flips, truncation, spliced noise, a clobbered header, a repeated
region and a zeroed region. Every mutation is reproducible from (seed, index)."""

from __future__ import annotations

import random

STRATEGIES = ("flip", "truncate", "splice", "header", "repeat", "zero")


def mutate(data: bytes, rng: random.Random, strategy: str | None = None) -> tuple[bytes, str]:
    strategy = strategy or rng.choice(STRATEGIES)
    buf = bytearray(data)
    n = len(buf)
    if strategy == "flip":
        for _ in range(rng.randint(1, 64)):
            i = rng.randrange(n)
            buf[i] ^= 1 << rng.randrange(8)
    elif strategy == "truncate":
        del buf[rng.randint(1, max(1, n - 1)):]
    elif strategy == "splice":
        i = rng.randrange(n)
        buf[i:i] = rng.randbytes(rng.randint(1, 4096))
    elif strategy == "header":
        k = min(n, rng.randint(4, 64))
        buf[:k] = rng.randbytes(k)
    elif strategy == "repeat":
        i = rng.randrange(n)
        j = min(n, i + rng.randint(1, 512))
        buf[j:j] = bytes(buf[i:j]) * rng.randint(2, 2000)
    elif strategy == "zero":
        i = rng.randrange(n)
        j = min(n, i + rng.randint(1, 8192))
        buf[i:j] = bytes(j - i)
    return bytes(buf), strategy
