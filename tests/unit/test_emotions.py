"""The emotion-profile store: files are the truth; lookups by id, prefix and character:emotion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exceptions import ConflictError, InvalidRequestError, NotFoundError
from management.catalog import Catalog
from management.emotions import EmotionStore, slug
from management.index_sqlite import SQLiteIndex


@pytest.fixture
def store(tmp_path: Path) -> EmotionStore:
    voices = tmp_path / "voices"
    (voices / "bob").mkdir(parents=True)
    for name in ("bob/cheer.wav", "bob/gloom.wav"):
        (voices / name).write_bytes(b"RIFF")  # the store checks existence, not content
    folder = Catalog(SQLiteIndex(tmp_path / "index.sqlite"), "voices", voices, label="voice")
    return EmotionStore(voices / ".emotions", folder)


def test_lookups_by_every_name(store: EmotionStore) -> None:
    made = store.create(
        character="Bob the Builder", emotion="Very Happy", exaggeration=1.1, samples=["bob/cheer"]
    )
    assert made.id == "bob-the-builder-very-happy" and made.samples == ("bob/cheer.wav",)
    for voice in (
        "emotion:bob-the-builder-very-happy",
        "BOB-the-builder-very-happy",
        "bob the builder:very happy",
    ):
        assert store.find(voice) == made
    assert store.find("bob:happy") is None and store.find("nobody") is None


def test_profiles_edited_by_hand_are_seen_and_broken_ones_skipped(store: EmotionStore) -> None:
    store.create(character="Bob", emotion="sad", exaggeration=0.2, samples=["bob/gloom.wav"])
    path = store.folder / "bob-sad.json"
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "exaggeration": 0.9}))
    (store.folder / "broken.json").write_text("{not json")
    (store.folder / "partial.json").write_text('{"character": "X"}')
    assert [(p.id, p.exaggeration) for p in store.list()] == [("bob-sad", 0.9)]
    with pytest.raises(NotFoundError):
        store.get("broken")
    path.unlink()
    assert store.list() == []


def test_refusals(store: EmotionStore) -> None:
    store.create(character="Bob", emotion="sad", exaggeration=0.2, samples=["bob/gloom"])
    with pytest.raises(ConflictError):
        store.create(character="bob", emotion="SAD", exaggeration=0.2, samples=["bob/gloom"], profile_id="x")
    with pytest.raises(ConflictError):
        store.create(
            character="Al", emotion="x", exaggeration=0.2, samples=["bob/gloom"], profile_id="bob-sad"
        )
    with pytest.raises(InvalidRequestError):
        store.create(character="Al", emotion="x", exaggeration=0.2, samples=[])
    with pytest.raises(NotFoundError):
        store.create(character="Al", emotion="x", exaggeration=0.2, samples=["ghost"])
    with pytest.raises(InvalidRequestError):
        store.create(
            character="Al", emotion="x", exaggeration=0.2, samples=["bob/gloom"], parameters={"speed": 1}
        )
    with pytest.raises(NotFoundError):
        store.update("../etc", {"exaggeration": 1})
    assert [p.id for p in store.list()] == ["bob-sad"]


def test_slugs() -> None:
    assert slug("  Dr. Who?! ") == "dr-who" and slug("!!!") == "x" and len(slug("a" * 100)) == 31
