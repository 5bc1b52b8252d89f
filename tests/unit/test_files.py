"""The file gateway and atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from exceptions import InvalidRequestError, NotFoundError
from management.library_files import resolve_audio
from utils.files import atomic_write_bytes, project_folder, resolve_inside


@pytest.mark.parametrize(
    "name",
    [
        "../secret.wav",
        "/etc/passwd",
        "a/../../b.wav",
        "..\\x.wav",
        "",
        "   ",
        "%2e%2e/secret.wav",
        "%2E%2E%5Csecret.wav",
        "%252e%252e%252fsecret.wav",
        "%25252e%25252e/secret.wav",
        "a/%2e%2e/%2e%2e/secret.wav",
        "%2fetc%2fpasswd",
        "C:\\Windows\\win.ini",
        "c:secret.wav",
        "secret\x00.wav",
        "secret%00.wav",
        "tab\there.wav",
        "CON",
        "con.wav",
        "a/Nul.tar.gz",
        "COM1",
        "lpt9.txt",
        "aux .wav",
        "\\\\server\\share\\x.wav",
        ".index.sqlite3",
        "..hidden.wav",
        ".emotions/calm.json",
        "book/.hidden/take.wav",
        "%2eindex.sqlite3",
        "a" * 252 + ".wav",
        "é" * 128 + ".wav",
        "/".join(["deep"] * 40),
    ],
)
def test_names_that_escape_the_folder_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        resolve_inside(tmp_path, name, param="voice")
    assert caught.value.param == "voice"


@pytest.mark.parametrize(
    ("name", "inside"),
    [
        ("narrator.wav", "narrator.wav"),
        ("books/ch1/take 2.wav", "books/ch1/take 2.wav"),
        ("take..2.wav", "take..2.wav"),
        ("a" * 251 + ".wav", "a" * 251 + ".wav"),
        ("console.wav", "console.wav"),
        ("com10.wav", "com10.wav"),
        ("100%25 done.wav", "100%25 done.wav"),
        ("./a/./b.wav", "a/b.wav"),
    ],
)
def test_ordinary_names_resolve_inside(tmp_path: Path, name: str, inside: str) -> None:
    assert resolve_inside(tmp_path, name, param="voice") == tmp_path.resolve() / inside


def test_a_project_named_like_a_file_is_a_400_naming_project(tmp_path: Path) -> None:
    (tmp_path / "taken.wav").write_bytes(b"x")
    for project in ("taken.wav", "taken.wav/sub"):
        with pytest.raises(InvalidRequestError, match="names a file") as caught:
            project_folder(tmp_path, project)
        assert caught.value.param == "project"


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "voices"
    root.mkdir()
    (root / "link.wav").symlink_to(tmp_path / "outside.wav")
    with pytest.raises(InvalidRequestError, match="outside"):
        resolve_inside(root, "link.wav", param="voice")


def test_audio_library_finds_files_the_way_plus_did(tmp_path: Path) -> None:
    (tmp_path / "narrators").mkdir()
    (tmp_path / "alice.wav").write_bytes(b"x")
    (tmp_path / "narrators" / "bob.flac").write_bytes(b"x")
    (tmp_path / "carla.opus").write_bytes(b"x")

    def resolve(name: str) -> Path:
        return resolve_audio(tmp_path, name, label="voice", param="voice")

    assert resolve("alice.wav") == (tmp_path / "alice.wav").resolve()
    assert resolve("alice") == (tmp_path / "alice.wav").resolve()
    assert resolve("bob") == (tmp_path / "narrators" / "bob.flac").resolve()
    assert resolve("narrators/bob.flac") == (tmp_path / "narrators" / "bob.flac").resolve()
    assert resolve("carla") == (tmp_path / "carla.opus").resolve()  # every suffix a listing shows
    with pytest.raises(NotFoundError) as caught:
        resolve("carol")
    assert caught.value.param == "voice" and "carol" in caught.value.message


def test_atomic_write_replaces_whole_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.wav"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["out.wav"]


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        atomic_write_bytes(tmp_path / "out.wav", "not bytes")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
