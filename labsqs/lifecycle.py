"""One message's life in a queue, drawn.

A message is **sent** (``SendMessage``) and waits **visible**, or first **delayed** when it was sent with
``DelaySeconds`` (or the queue has a delay). A ``ReceiveMessage`` hands it to one consumer and puts it
**in flight**: hidden from everyone else for the visibility timeout. From there it is **deleted**
(``DeleteMessage`` with that delivery's receipt handle) — the only way work is marked done — or it becomes
**visible again** when the timer ends or the consumer hands it back (``ChangeMessageVisibility`` to 0), and
the next receive counts one more delivery. When a queue has a redrive policy, the receive that would be
delivery ``maxReceiveCount + 1`` moves the message to the **dead-letter queue** instead. A message nobody
deletes **expires** when the queue's retention period (60 s – 14 days, default 4 days) ends.

:data:`TRANSITIONS` holds those moves; :func:`plot_message_life` draws them with matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from matplotlib.axes import Axes


class Transition(NamedTuple):
    source: str
    target: str
    label: str
    at: tuple[float, float]  # where the label goes
    bend: float = 0.0  # arc3 radius: 0 is a straight arrow
    align: str = "center"  # the label's horizontal alignment at ``at``


STATES = {  # name: (x, y, colour)
    "sent": (0.0, 2.0, "white"),
    "delayed": (2.6, 3.6, "#fff3c4"),
    "visible": (2.6, 2.0, "#d7ecff"),
    "in flight": (6.4, 2.0, "#ffe0b2"),
    "deleted": (9.6, 2.0, "#c8e6c9"),
    "dead-letter queue": (6.4, 0.0, "#ffcdd2"),
    "expired": (2.6, 0.0, "#e0e0e0"),
}

TRANSITIONS = (
    Transition("sent", "visible", "SendMessage", (1.3, 2.25)),
    Transition("sent", "delayed", "DelaySeconds > 0", (0.55, 3.25), -0.2),
    Transition("delayed", "visible", "delay ends (≤ 15 min)", (2.75, 2.75), 0, "left"),
    Transition("visible", "in flight", "ReceiveMessage\n(receive count + 1)", (5.0, 1.3), 0.3),
    Transition("in flight", "visible", "visibility timeout ends,\nor ChangeMessageVisibility(0)",
               (4.8, 3.1), 0.3),
    Transition("in flight", "deleted", "DeleteMessage\n(receipt handle)", (8.0, 2.35)),
    Transition("visible", "dead-letter queue", "the receive after\nmaxReceiveCount",
               (4.1, 0.55), 0.35, "left"),
    Transition("visible", "expired", "retention ends\n(default 4 days)", (2.45, 1.0), 0, "right"),
)


def plot_message_life(ax: Axes | None = None) -> Axes:
    """Draw :data:`STATES` and :data:`TRANSITIONS` as a state diagram; returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.2))
    for name, (x, y, colour) in STATES.items():
        style = "circle,pad=0.3" if name == "sent" else "round,pad=0.45"
        ax.text(x, y, name, ha="center", va="center", fontsize=11, zorder=3,
                bbox={"boxstyle": style, "facecolor": colour, "edgecolor": "0.3"})
    for t in TRANSITIONS:
        (x0, y0, _), (x1, y1, _) = STATES[t.source], STATES[t.target]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), zorder=2,
                    arrowprops={"arrowstyle": "-|>", "color": "0.25", "shrinkA": 24, "shrinkB": 24,
                                "connectionstyle": f"arc3,rad={t.bend}"})
        ax.text(*t.at, t.label, ha=t.align, va="center", fontsize=8.5, color="0.15")
    ax.set_xlim(-0.8, 10.6)
    ax.set_ylim(-0.6, 4.2)
    ax.set_axis_off()
    ax.set_title("One message's life in an SQS queue")
    return ax
