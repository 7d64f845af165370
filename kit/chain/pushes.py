"""Dataset pushes as the chain records them: skip an unchanged folder, push through the Kaggle client, and write
the ledger row. The client only talks to Kaggle; this is where its answers are persisted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kit.artefacts import DatasetStatus
from kit.kaggle import metadata
from kit.kaggle.results import DatasetPush


def push_dataset(client: Any, folder: Path, slug: str, *, kind: str, ledger: Any = None, notes: str = "",
                 files: list[Path] | None = None, **options: Any) -> DatasetPush:
    """Push `folder` as dataset `slug` (a new version when it exists) and record it in the ledger.

    An unchanged folder (same content hash as the last recorded version) is not uploaded: a 'skipped' row is
    recorded and the previous version returned. `files` (relative paths, chosen and scanned by the caller through
    kit.chain.uploads) replaces the default clean-file walk. `options` go to `KaggleClient.dataset_push`.
    """
    from kit.ledger import Ledger

    folder = Path(folder)
    files = list(files) if files is not None else metadata.clean_files(folder)
    digest = metadata.content_hash(folder, files)
    names = [str(f) for f in files]
    size = sum((folder / f).stat().st_size for f in files)
    ref = f"{client.username}/{metadata.check_slug(slug)}"
    led = ledger or Ledger()
    try:
        last = led.latest_dataset_version(ref, sandbox=client.sandbox)
        if last and last["content_hash"] == digest:
            led.add_dataset_version(kind, ref, last["version"], digest, status=DatasetStatus.SKIPPED, files=names,
                                    size_bytes=size, sandbox=client.sandbox, notes="unchanged content")
            return DatasetPush(ref, last["version"], digest, skipped=True, status=DatasetStatus.SKIPPED,
                               files=tuple(names), size_bytes=size)
        pushed = client.dataset_push(folder, slug, notes=notes, files=files, digest=digest, **options)
        ready = pushed.status == DatasetStatus.READY
        led.add_dataset_version(kind, ref, pushed.version, digest,
                                status=DatasetStatus.READY if ready else DatasetStatus.PENDING, files=names,
                                size_bytes=size, sandbox=client.sandbox, notes=notes)
        return pushed
    finally:
        if ledger is None:
            led.close()
