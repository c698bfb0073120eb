"""How a looped task's one progress entry reads: watch and the console show it."""

from __future__ import annotations

from stigmer.api.v1 import stigmer_pb2 as pb
from stigmer.resources.executions import repetition


def test_a_running_loop_says_its_iteration_and_a_repeated_task_its_runs() -> None:
    assert repetition(pb.TaskProgress(iteration=3, iterations=10, runs=1)) == "iteration 3 of 10"
    assert repetition(pb.TaskProgress(runs=7)) == "ran 7 times"
    assert (
        repetition(pb.TaskProgress(iteration=2, iterations=4, runs=2))
        == "iteration 2 of 4, ran 2 times"
    )


def test_a_task_that_ran_once_says_nothing_more() -> None:
    assert repetition(pb.TaskProgress(runs=1)) == ""
    assert repetition(pb.TaskProgress()) == ""
