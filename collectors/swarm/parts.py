"""A large swarm's `/tasks` read in parts (`engine.task_parts`: runs of whole services): one part's
answer digested, pure, in the collector's process or its worker (collectors/swarm/listing.py).

Digesting is decoding the JSON and sorting the tasks into slots (which is current, which is
history). What is kept is the split and only the tasks that decide the model: a swarm's task
history is mostly tasks shut down on purpose (four in five at the bench's swarm), which change
nothing, so they are neither sent back from the worker nor kept.
"""
from __future__ import annotations

import msgspec

from collectors.swarm import wire
from collectors.swarm.normalize import SlotHistory, TaskSplit, split_current_tasks, tasks_that_matter
from collectors.toolkit import decode_problem, decoder_for, paused_gc


class DigestedPart(msgspec.Struct, array_like=True, gc=False):
    # the part's tasks that matter (`normalize.tasks_that_matter`): the current ones, the failed
    # earlier ones, the ended ones, then the earlier ones still meant to run
    tasks: list[wire.Task] = []
    current: int = 0
    failed_earlier: int = 0
    ended: int = 0
    earlier: list[tuple[int, int, str | None]] = []  # (current task's index, earlier failures, last error)
    error: str | None = None  # the answer could not be decoded: what is wrong, as `toolkit.decode_problem` says


def digest_part(data: bytes, services: frozenset[str]) -> DigestedPart:
    """One part's `/tasks` answer: how its tasks of these services split, and those that matter
    (in the worker, or inline). Tasks of other services are left out: an engine that ignored the
    filter would otherwise count them once per part."""
    with paused_gc():  # wire structs and their lists hold no cycles
        try:
            tasks = decoder_for(list[wire.Task]).decode(data)
        except msgspec.DecodeError as exc:
            return DigestedPart(error=decode_problem(exc))
        split = split_current_tasks(tasks, services)
        return DigestedPart(
            tasks=tasks_that_matter(split),
            current=len(split.current), failed_earlier=len(split.failed_earlier), ended=len(split.ended),
            earlier=[(i, h.failures, h.last_error) for i, t in enumerate(split.current)
                     if (h := split.earlier.get(t.ID)) is not None])


def part_split(part: DigestedPart) -> TaskSplit:
    tasks = part.tasks
    failed_end = part.current + part.failed_earlier
    return TaskSplit(tasks[:part.current], tasks[part.current:failed_end],
                     {tasks[i].ID: SlotHistory(failures, error) for i, failures, error in part.earlier},
                     tasks[failed_end:failed_end + part.ended], tasks[failed_end + part.ended:])
