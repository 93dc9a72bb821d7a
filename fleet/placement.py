"""First-fit decreasing for many "lose these bins" scenarios over one fixed list of bins, fast.

The answers are exactly those of the plain loop (each request, largest first, on the first bin in
list order where `free - used + EPSILON >= request` for both CPU and memory): the same float sums in
the same order, so the same verdicts. Speed comes from three things:
- a segment tree over the bins keeps the maximum free CPU and memory of each segment, so "first bin
  at or after `start` where both fit" skips whole segments. Two dimensions need care: a segment
  whose two maxima both suffice may still hold no bin where both do, so the search backtracks; it
  stays near O(log N) on real fleets (bench/analysis_scale.py measures it);
- identical requests (one workload's instances) are placed as a run: fill the bin found until the
  next copy no longer fits, then search on from the next bin (earlier bins did not fit and have not
  changed);
- a scenario with few requests (losing one node) never touches the tree: it overlays its few
  changed bins on the unchanged one, whose answers are remembered across scenarios. Its requests'
  placement with no bin excluded is remembered too: when that placement uses none of the excluded
  bins, first fit makes the same choice at every step with them excluded, so it is the answer. A large
  scenario (losing a zone) updates the tree in place and undoes its changes afterwards.
No I/O here.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from itertools import groupby

EPSILON = 1e-9
NOT_FOUND = -1
# above this many requests, or this many excluded bins, a scenario updates the tree instead of overlaying
SMALL_SCENARIO = 32


def runs_of(requests: Iterable[tuple[float, float]]) -> list[tuple[tuple[float, float], int]]:
    """Equal requests next to each other as one (request, how many) run."""
    return [(request, sum(1 for _ in run)) for request, run in groupby(requests)]


class FreeTree:
    """Maximum free CPU and memory per segment of the bins; absent and excluded bins hold -inf."""

    def __init__(self, cpu: Sequence[float], mem: Sequence[float]) -> None:
        size = 1
        while size < max(1, len(cpu)):
            size *= 2
        self.size = size
        self.cpu = [float("-inf")] * (2 * size)
        self.mem = [float("-inf")] * (2 * size)
        self.cpu[size:size + len(cpu)] = cpu
        self.mem[size:size + len(mem)] = mem
        self._rebuild()

    def _rebuild(self) -> None:
        """Every segment's maxima from its halves', one level at a time."""
        cpu, mem, level = self.cpu, self.mem, self.size
        while level > 1:  # max(left, right) as `set` has it, written out: map(max, ...) takes twice as long
            half = level // 2
            cpu[half:level] = [right if right > left else left
                               for left, right in zip(cpu[level:2 * level:2], cpu[level + 1:2 * level:2])]
            mem[half:level] = [right if right > left else left
                               for left, right in zip(mem[level:2 * level:2], mem[level + 1:2 * level:2])]
            level = half

    def set(self, index: int, free_cpu: float, free_mem: float) -> None:
        cpu, mem = self.cpu, self.mem
        node = self.size + index
        cpu[node], mem[node] = free_cpu, free_mem
        node >>= 1
        while node:  # as max(left, right), up to where a segment's maxima stay as they were
            left, right = cpu[2 * node], cpu[2 * node + 1]
            segment_cpu = right if right > left else left
            left, right = mem[2 * node], mem[2 * node + 1]
            segment_mem = right if right > left else left
            if cpu[node] == segment_cpu and mem[node] == segment_mem:
                return
            cpu[node], mem[node] = segment_cpu, segment_mem
            node >>= 1

    def exclude(self, indexes: Collection[int]) -> None:
        """Those bins hold nothing from now on."""
        if len(indexes) * 16 < self.size:
            for index in indexes:
                self.set(index, float("-inf"), float("-inf"))
            return
        cpu, mem, size, nothing = self.cpu, self.mem, self.size, float("-inf")
        for index in indexes:  # a zone's thousands of bins: one rebuild is cheaper
            cpu[size + index] = mem[size + index] = nothing
        self._rebuild()

    def reset(self, tree: FreeTree) -> None:
        """Become a copy of `tree`."""
        self.size = tree.size
        self.cpu[:], self.mem[:] = tree.cpu, tree.mem

    def first(self, cpu: float, mem: float, start: int = 0) -> int:
        """The first bin at or after `start` where both fit, or NOT_FOUND."""
        left, right = start + self.size, 2 * self.size
        rights = []
        while left < right:  # the O(log N) segments covering [start, end), left to right
            if left & 1:
                found = self._search(left, cpu, mem)
                if found != NOT_FOUND:
                    return found
                left += 1
            if right & 1:
                right -= 1
                rights.append(right)
            left >>= 1
            right >>= 1
        for node in reversed(rights):
            found = self._search(node, cpu, mem)
            if found != NOT_FOUND:
                return found
        return NOT_FOUND

    def _search(self, node: int, cpu: float, mem: float) -> int:
        if not (self.cpu[node] + EPSILON >= cpu and self.mem[node] + EPSILON >= mem):
            return NOT_FOUND
        if node >= self.size:
            return node - self.size
        found = self._search(2 * node, cpu, mem)
        return found if found != NOT_FOUND else self._search(2 * node + 1, cpu, mem)


class FirstFit:
    """The bins' free (cpu, mem), unchanged between scenarios; `place` answers one scenario."""

    def __init__(self, cpu: Sequence[float], mem: Sequence[float]) -> None:
        self.cpu, self.mem = list(cpu), list(mem)
        self.base = FreeTree(self.cpu, self.mem)
        self.live = FreeTree((), ())
        self.live.reset(self.base)
        self.remembered: dict[tuple[float, float, int], int] = {}
        # small scenarios' placements with nothing excluded: the answer for any excluded bins it does not use
        self.anywhere: dict[tuple[tuple[float, float], ...], list[int]] = {}

    def place(self, requests: Sequence[tuple[float, float]], excluded: Collection[int] = ()) -> list[int]:
        """Bin index (or NOT_FOUND) per request; requests come largest first, as first-fit decreasing sorts them."""
        if len(requests) <= SMALL_SCENARIO and len(excluded) <= SMALL_SCENARIO:
            key = tuple(requests)
            anywhere = self.anywhere.get(key)
            if anywhere is None:
                anywhere = self.anywhere[key] = self._place_anywhere(requests)
            if not excluded or not set(excluded).intersection(anywhere):
                return anywhere
            return self._place(runs_of(requests), set(excluded), {}, live=False)
        return self.place_runs(runs_of(requests), excluded)

    def place_runs(self, runs: Sequence[tuple[tuple[float, float], int]], excluded: Collection[int] = ()) -> list[int]:
        """`place` for requests given as (request, how many) runs, largest first: a zone's 70,000 requests
        come in a few sizes."""
        self.live.exclude(excluded)
        used: dict[int, tuple[float, float]] = {}
        try:
            return self._place(runs, set(excluded), used, live=True)
        finally:
            self.live.reset(self.base)

    def _place(self, runs: Iterable[tuple[tuple[float, float], int]], excluded: set[int],
               used: dict[int, tuple[float, float]], *, live: bool) -> list[int]:
        placed: list[int] = []
        for (cpu, mem), count in runs:
            start = 0
            while count:
                index = self.live.first(cpu, mem, start) if live else self._overlay_first(cpu, mem, start, excluded, used)
                if index == NOT_FOUND:
                    placed.extend([NOT_FOUND] * count)
                    break
                free_cpu, free_mem = self.cpu[index], self.mem[index]
                used_cpu, used_mem = used.get(index, (0.0, 0.0))
                fitted = 0
                while fitted < count and free_cpu - used_cpu + EPSILON >= cpu and free_mem - used_mem + EPSILON >= mem:
                    used_cpu, used_mem = used_cpu + cpu, used_mem + mem
                    fitted += 1
                placed.extend([index] * fitted)
                count -= fitted
                used[index] = (used_cpu, used_mem)
                if live:
                    self.live.set(index, free_cpu - used_cpu, free_mem - used_mem)
                start = index + 1
        return placed

    def _place_anywhere(self, requests: Sequence[tuple[float, float]]) -> list[int]:
        """_place with no bin excluded, for few requests. A request's first bin in the unchanged tree is
        still its answer while that bin has room left: the bins before it had too little room for it
        and only lose room as requests land. Once that bin is full for a size, the search goes on
        from the last bin that size landed on."""
        placed: list[int] = []
        used: dict[int, tuple[float, float]] = {}
        last_for: dict[tuple[float, float], int] = {}
        free_cpu, free_mem, nothing = self.cpu, self.mem, set()
        for request in requests:
            cpu, mem = request
            index = last_for.get(request)
            if index is None:
                index = self._base_first(cpu, mem, 0)
            if index != NOT_FOUND:
                used_cpu, used_mem = used.get(index, (0.0, 0.0))
                if not (free_cpu[index] - used_cpu + EPSILON >= cpu and free_mem[index] - used_mem + EPSILON >= mem):
                    index = self._overlay_first(cpu, mem, index + 1, nothing, used)
                    if index != NOT_FOUND:
                        used_cpu, used_mem = used.get(index, (0.0, 0.0))
                if index != NOT_FOUND:
                    used[index] = (used_cpu + cpu, used_mem + mem)
            last_for[request] = index
            placed.append(index)
        return placed

    def _overlay_first(self, cpu: float, mem: float, start: int, excluded: set[int],
                       used: dict[int, tuple[float, float]]) -> int:
        """First fit with this scenario's few changed and excluded bins laid over the unchanged tree."""
        found = self._base_first(cpu, mem, start)
        while found != NOT_FOUND and (found in excluded or found in used):
            found = self._base_first(cpu, mem, found + 1)
        for index, (used_cpu, used_mem) in used.items():
            if start <= index and (found == NOT_FOUND or index < found) and \
                    self.cpu[index] - used_cpu + EPSILON >= cpu and self.mem[index] - used_mem + EPSILON >= mem:
                found = index
        return found

    def _base_first(self, cpu: float, mem: float, start: int) -> int:
        key = (cpu, mem, start)
        found = self.remembered.get(key)
        if found is None:
            found = self.remembered[key] = self.base.first(cpu, mem, start)
        return found
