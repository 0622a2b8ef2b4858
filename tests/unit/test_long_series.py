"""A very long series is reduced to an envelope that keeps what the detectors need."""

from __future__ import annotations

import numpy as np

from assistant.triage.read import MAX_KEPT_POINTS, _envelope


def test_the_envelope_keeps_the_spike_the_nan_onset_and_the_ends() -> None:
    n = 2 * MAX_KEPT_POINTS + 123
    steps = np.arange(n, dtype=np.float64)
    values = np.linspace(2.0, 1.0, n)
    spike, onset = n // 3 + 7, 3 * n // 4 + 1
    values[spike] = 50.0  # one spike
    values[onset:] = np.nan  # nan from here on
    kept_steps, kept, epochs = _envelope(steps, values, None, MAX_KEPT_POINTS)
    assert epochs is None
    assert kept.shape[0] <= MAX_KEPT_POINTS + 200
    assert np.all(np.diff(kept_steps) > 0)
    assert np.nanmax(kept) == 50.0 and float(spike) in kept_steps
    first_nan = kept_steps[np.isnan(kept)][0]
    assert first_nan == float(onset)
    assert kept_steps[-1] == n - 1


def test_a_long_log_reports_every_reading_but_hands_the_detectors_an_envelope(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.render import triage_json
    from assistant.triage.detect import diagnose
    from assistant.triage.read import read_log

    n = MAX_KEPT_POINTS + 50_000
    log = tmp_path / "long.csv"
    values = np.full(n, 87.3365)
    values[:100] = np.linspace(6.9, 80.0, 100)
    with log.open("w", encoding="utf-8") as handle:
        handle.write("step,loss\n")
        handle.writelines(f"{i},{v:.4f}\n" for i, v in enumerate(values))
    result = diagnose(read_log(str(log)))
    loss = result.loss
    assert loss is not None and loss.readings == n and loss.points < n
    assert triage_json(result)["series"][0]["points"] == n
    assert result.primary == "stuck-87-3365"
    assert "about" in result.findings[0].summary
