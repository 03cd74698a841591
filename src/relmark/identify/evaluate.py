"""How good is identity resolution on labelled records: pairwise precision, recall and F1.

Pairwise: every two records of one true person is a true pair; every two records that share a
profile is a found pair. Used by the benchmark and the tests on what the store merged (its
exported identities), not on the model's pair scores.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class PairwiseScore:
    true_pairs: int
    found_pairs: int
    right_pairs: int

    @property
    def precision(self) -> float:
        """1.0 when nothing was merged: no merge was wrong."""
        return self.right_pairs / self.found_pairs if self.found_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.right_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __str__(self) -> str:
        return (
            f"precision {self.precision:.3f}, recall {self.recall:.3f}, F1 {self.f1:.3f} "
            f"({self.right_pairs:,} of {self.true_pairs:,} true pairs; "
            f"{self.found_pairs - self.right_pairs:,} wrong)"
        )


def _pairs(counts: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in counts)


def pairwise(
    truth: Mapping[Hashable, Hashable], found: Mapping[Hashable, Hashable]
) -> PairwiseScore:
    """Score `found` (record → profile) against `truth` (record → person), over the records
    both know."""
    shared = [r for r in truth if r in found]
    return PairwiseScore(
        true_pairs=_pairs(Counter(truth[r] for r in shared).values()),
        found_pairs=_pairs(Counter(found[r] for r in shared).values()),
        right_pairs=_pairs(Counter((truth[r], found[r]) for r in shared).values()),
    )


def with_links(
    found: Mapping[Hashable, Hashable], links: Iterable[tuple[Hashable, Hashable]]
) -> dict[Hashable, Hashable]:
    """`found` with linked profiles joined (e.g. the review queue's pairs, as if accepted)."""
    parent: dict[Hashable, Hashable] = {}

    def root(node: Hashable) -> Hashable:
        while parent.get(node, node) != node:
            parent[node] = parent.get(parent[node], parent[node])
            node = parent[node]
        return node

    for a, b in links:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[rb] = ra
    return {record: root(profile) for record, profile in found.items()}
