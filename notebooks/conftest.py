"""nbval compares the stored outputs of each lesson's *source*: ``solutions/NN-topic.ipynb`` when the lesson
has one. Its learner notebook (``NN-topic.ipynb``, built from the source with blanks and no outputs) is run by
``tests/test_lessons.py`` instead, which proves that every check fails while the blanks are empty."""

from __future__ import annotations

from pathlib import Path


def pytest_ignore_collect(collection_path: Path, config) -> bool | None:
    source = collection_path.parent / "solutions" / collection_path.name
    if collection_path.suffix == ".ipynb" and source.exists():
        return True
    return None
