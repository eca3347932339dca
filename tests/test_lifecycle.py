"""The drawn life of a message: every state is a box, every move an arrow with its label."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from labsqs import lifecycle  # noqa: E402


def test_every_state_and_transition_is_drawn():
    ax = lifecycle.plot_message_life()
    try:
        texts = {t.get_text() for t in ax.texts}
        assert set(lifecycle.STATES) <= texts
        assert {t.label for t in lifecycle.TRANSITIONS} <= texts
        arrows = [c for c in ax.get_children() if type(c).__name__ == "Annotation" and c.arrow_patch]
        assert len(arrows) == len(lifecycle.TRANSITIONS)
    finally:
        plt.close(ax.figure)


def test_transitions_join_known_states_and_reach_every_end():
    for t in lifecycle.TRANSITIONS:
        assert t.source in lifecycle.STATES and t.target in lifecycle.STATES
    ends = {t.target for t in lifecycle.TRANSITIONS}
    assert {"deleted", "dead-letter queue", "expired", "in flight", "visible"} <= ends
