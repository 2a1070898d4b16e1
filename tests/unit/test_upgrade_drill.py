"""The upgrade drill's pure parts: which patches are new, and reading wait points from a history."""

from pathlib import Path

from dapr.ext.workflow._durabletask.internal import protos as pb

from orchestrator.workflows.patches import FRAUD_CHECK, NUDGE_EVERY_WAIT
from upgrade import cohorts
from upgrade.baseline import BASELINE_FILE, PATCHES_FILE, default_ref, patch_names
from upgrade.drill import NEW_PATH_ACTIVITY

REPO = Path(__file__).resolve().parents[2]


def _scheduled(event_id: int, name: str) -> pb.HistoryEvent:
    return pb.HistoryEvent(eventId=event_id, taskScheduled=pb.TaskScheduledEvent(name=name))


def _completed(scheduled_id: int) -> pb.HistoryEvent:
    return pb.HistoryEvent(
        eventId=-1, taskCompleted=pb.TaskCompletedEvent(taskScheduledId=scheduled_id)
    )


def test_the_patches_a_tree_knows_are_read_from_its_patches_module(tmp_path: Path) -> None:
    assert patch_names(REPO / PATCHES_FILE) >= {FRAUD_CHECK, NUDGE_EVERY_WAIT}
    old = tmp_path / "patches.py"
    old.write_text('NUDGE_EVERY_WAIT: Final = "nudge-every-wait"\n')
    assert patch_names(old) == {NUDGE_EVERY_WAIT}
    assert patch_names(tmp_path / "absent.py") == set()


def test_every_patch_the_drill_checks_names_the_activity_only_its_new_path_runs() -> None:
    assert set(NEW_PATH_ACTIVITY) <= patch_names(REPO / PATCHES_FILE)


def test_the_default_baseline_is_a_full_commit_id() -> None:
    ref = default_ref()
    assert len(ref) == 40 and int(ref, 16) >= 0, BASELINE_FILE.read_text()


def test_an_activity_is_pending_while_scheduled_and_not_completed() -> None:
    events = [_scheduled(1, "refund_payment"), _completed(1), _scheduled(2, "release_stock")]
    assert cohorts.pending(events, "release_stock")
    assert not cohorts.pending(events, "refund_payment")
    assert not cohorts.pending([*events, _completed(2)], "release_stock")
    assert cohorts.scheduled(events, "refund_payment") == 1
    assert cohorts.scheduled(events, "screen_payment") == 0
