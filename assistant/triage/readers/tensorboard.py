"""TensorBoard event files, read with tbparse (scalars, and TF2 scalar tensors). The split
comes from the run subdirectory Keras and Lightning write (``train`` / ``validation`` /
``val`` / ``eval`` / ``test``) or from the tag (``val/loss``, ``eval_loss``); tags are the
series names, lower-cased (``epoch_loss``, ``train/loss``)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator

import numpy as np

from ..model import Split
from .base import Batch, Reader, split_of

_DIR_SPLITS: dict[str, Split] = {
    "train": "train",
    "training": "train",
    "validation": "val",
    "val": "val",
    "valid": "val",
    "eval": "val",
    "test": "test",
}


def _dir_split(rel_dir: str) -> Split | None:
    for part in reversed([p.lower() for p in rel_dir.replace("\\", "/").split("/") if p]):
        if part in _DIR_SPLITS:
            return _DIR_SPLITS[part]
    return None


class TensorBoardReader(Reader):
    """TensorBoard ``events.out.tfevents.*`` files (a run directory or one file)."""

    name = "tensorboard"
    step_unit = "step"

    def sniff(self, head: str, filename: str) -> float:
        return 0.99 if "tfevents" in filename else 0.0

    def parse(self, chunks: Iterable[bytes]) -> Iterator[Batch]:  # pragma: no cover - unused
        return iter(())

    def parse_events(self, root: str, files: list[str]) -> Iterator[Batch]:
        """Every scalar of the event files under ``root``."""
        import pandas as pd
        from tbparse import SummaryReader

        frames = []
        for f in files:
            rel = os.path.relpath(os.path.dirname(f), root)
            for kind in ("scalars", "tensors"):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        df = getattr(SummaryReader(f, pivot=False), kind)
                except Exception:  # noqa: BLE001 - a corrupt event file yields nothing
                    continue
                if df is None or df.empty or "value" not in df:
                    continue
                df = df[["step", "tag", "value"]].copy()
                if kind == "tensors":
                    df["value"] = [_scalar(v) for v in df["value"]]
                    df = df[df["value"].notna() | df["value"].isna()]
                df["dir"] = "" if rel == "." else rel
                df["file"] = f
                frames.append(df)
        if not frames:
            return
        data = pd.concat(frames, ignore_index=True)
        data = data[[v is not None for v in data["value"]]]
        for (d, tag), g in data.groupby(["dir", "tag"], sort=False):
            name = str(tag).strip().lower()
            split = _dir_split(str(d)) or split_of(name)
            g = g.sort_values("step", kind="stable")
            yield Batch(
                name, split, g["step"].to_numpy(np.float64), g["value"].to_numpy(np.float64)
            )


def _scalar(v: object) -> float | None:
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if a.size != 1:
        return None
    return float(a.reshape(-1)[0])
