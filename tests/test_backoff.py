"""The one backoff: the delays each user of it had before, and a cap that holds for ever."""

from __future__ import annotations

import pytest

from cncwear_gui.backoff import Backoff


def _delays(backoff: Backoff, n: int) -> list[float]:
    return [backoff.next_delay() for _ in range(n)]


def test_delays_double_up_to_the_cap_and_start_again_after_a_reset():
    backoff = Backoff(first=10, cap=600)  # the pipeline watcher's restarts
    assert _delays(backoff, 8) == [10, 20, 40, 80, 160, 320, 600, 600]
    assert backoff.attempts == 8
    backoff.reset()
    assert backoff.attempts == 0 and backoff.next_delay() == 10


def test_factor_one_is_a_constant_delay():
    backoff = Backoff(first=1.5, cap=1.5, factor=1.0)  # the prediction log's failed batches
    assert _delays(backoff, 4) == [1.5] * 4


def test_jitter_stays_within_its_share_of_the_capped_delay():
    backoff = Backoff(first=0.5, cap=2.0, jitter=0.2)  # the file tail's reopen
    for expected in [0.5, 1.0, 2.0] + [2.0] * 200:
        assert expected * 0.8 <= backoff.next_delay() <= expected * 1.2


def test_a_source_that_stays_away_for_days_never_overflows():
    backoff = Backoff(first=0.5, cap=10.0, jitter=0.2)  # OPC UA reconnects: 2**1100 would not fit a float
    delays = _delays(backoff, 5000)
    assert max(delays) <= 12.0 and min(delays[10:]) >= 8.0


def test_a_first_delay_above_the_cap_is_capped():
    assert _delays(Backoff(first=5, cap=2), 2) == [2, 2]


@pytest.mark.parametrize("options", [dict(first=-1, cap=1), dict(first=1, cap=-1), dict(first=1, cap=2, factor=0.5),
                                     dict(first=1, cap=2, jitter=1.0), dict(first=1, cap=2, jitter=-0.1)])
def test_nonsense_is_refused(options):
    with pytest.raises(ValueError):
        Backoff(**options)
