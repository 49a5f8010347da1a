"""Per-reader case orders: seeded, reproducible, and keeping paired cases apart.

Each reader's seed is derived from the study seed and the reader id (SHA-256) and is recorded in
the session, so different readers get different orders and the truth key (seed + salt)
reproduces every order exactly. The shuffle starts from the opaque ids in sorted order, never
from the study's case ids or file order: those can follow the truth (all real cases first), and
since a reader can see their seed, a shuffle of them could be undone to reveal the truth. The
opaque ids are salted with a secret, so their sorted order is random with respect to the truth.
Python's ``random.Random`` is used (its shuffle is stable across Python versions). When the study pairs
a real case with its synthetic version, orders in which two members of a pair follow each other
are redrawn, so a reader never judges an image right after its counterpart.
"""

from __future__ import annotations

import hashlib
import random
from typing import Mapping, Sequence

#: Orders drawn per reader before settling for the one with the fewest adjacent pair members.
MAX_DRAWS = 2000


def reader_seed(study_seed: int, reader_id: str) -> int:
    """The seed of one reader's order: 62 bits of SHA-256 over the study seed and reader id."""
    digest = hashlib.sha256(f"{study_seed}:{reader_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 2


def reader_order(opaque_ids: Sequence[str], seed: int,
                 pair_of: Mapping[str, str | None] | None = None) -> list[str]:
    """A random order of ``opaque_ids`` for one reader, deterministic given ``seed``.

    ``pair_of`` maps opaque id -> pair name (or ``None``); members of one pair are not placed
    next to each other when any of :data:`MAX_DRAWS` draws achieves that.
    """
    rng = random.Random(seed)
    base = sorted(opaque_ids)
    pair_of = pair_of or {}
    best: list[str] | None = None
    best_score = None
    for _ in range(MAX_DRAWS):
        order = base[:]
        rng.shuffle(order)
        score = adjacent_pairs(order, pair_of)
        if best_score is None or score < best_score:
            best, best_score = order, score
        if score == 0:
            break
    return best if best is not None else []


def adjacent_pairs(order: Sequence[str], pair_of: Mapping[str, str | None]) -> int:
    """How many neighbours in ``order`` belong to the same pair."""
    return sum(1 for a, b in zip(order, order[1:])
               if pair_of.get(a) is not None and pair_of.get(a) == pair_of.get(b))
