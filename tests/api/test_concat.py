"""POST /api/v1/concat and /api/v1/concat/mixed through the HTTP API, checked on the decoded result."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from config import Settings
from main_api import create_app
from utils.audio import Clip, decode, encode, loudness


def tone(seconds: float, rate: int = 24000, freq: float = 440.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def setup(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, Settings]]:
    settings = make_settings(engines={"enabled": ["piper"], "default": "piper", "fallback": None})
    with TestClient(create_app(settings)) as client:
        yield client, settings


@pytest.fixture
def client(setup: tuple[TestClient, Settings]) -> TestClient:
    return setup[0]


@pytest.fixture
def outputs(setup: tuple[TestClient, Settings]) -> Path:
    return Path(setup[1].paths.outputs_dir)


def put(folder: Path, name: str, samples: np.ndarray, rate: int = 24000, fmt: str = "wav") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(Clip(samples, rate), fmt))
    return path


def concat(client: TestClient, files: list[str], **body: object) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/api/v1/concat", json={"files": files, "normalize_levels": False, "response_mode": "json", **body}
    )
    assert response.status_code == 200, response.text
    return response.json()


def fetched(client: TestClient, answer: dict, index: int = 0) -> Clip:  # type: ignore[type-arg]
    response = client.get(answer["files"][index]["url"])
    assert response.status_code == 200
    return decode(response.content)


def listing(folder: Path) -> set[str]:
    """Files in the folder, the metadata index (``.index.sqlite3*``, which comes and goes) left out."""
    return {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".index.sqlite3")
    }


def test_silences_give_exact_durations_and_segments_are_converted_to_one_rate(
    client: TestClient, outputs: Path
) -> None:
    put(outputs, "a.wav", tone(1.0))
    put(outputs, "book/b.flac", np.stack([tone(0.75, 44100), tone(0.75, 44100)], axis=1), 44100, "flac")
    put(outputs, "c.wav", tone(0.5, 22050), 22050)
    answer = concat(client, ["a.wav", "(500ms)", "book/b.flac", "(1.5s)", "c.wav"])
    expected = 1.0 + 0.5 + 0.75 + 1.5 + 0.5
    assert answer["total_duration_seconds"] == pytest.approx(expected, abs=0.002)
    assert answer["sample_rate"] == 44100  # the highest among the segments
    assert answer["file_count"] == 3 and answer["silence_count"] == 2
    clip = fetched(client, answer)
    assert clip.sample_rate == 44100 and clip.duration == pytest.approx(expected, abs=0.002)
    # the first silence sits where it was asked for
    gap = clip.samples[int(1.05 * 44100) : int(1.45 * 44100)]
    assert np.max(np.abs(gap)) < 1e-4


def test_pauses_vary_within_bounds_and_repeat_with_a_seed(client: TestClient, outputs: Path) -> None:
    for name in "abcd":
        put(outputs, f"{name}.wav", tone(0.5))
    files = ["a.wav", "b.wav", "c.wav", "d.wav"]
    body = {"pause_duration_ms": 400, "pause_variation_ms": 200}
    first = concat(client, files, seed=7, **body)
    pauses = [
        item["pause_before_seconds"] for item in first["metadata"]["recipe"] if "pause_before_seconds" in item
    ]
    assert len(pauses) == 3 and all(0.2 <= p <= 0.6 for p in pauses)
    assert first["total_duration_seconds"] == pytest.approx(2.0 + sum(pauses), abs=0.002)
    again = concat(client, files, seed=7, **body)
    assert again["total_duration_seconds"] == first["total_duration_seconds"]
    others = {concat(client, files, seed=seed, **body)["total_duration_seconds"] for seed in (1, 2, 3)}
    assert len(others | {first["total_duration_seconds"]}) > 1
    unseeded = concat(client, files, **body)
    assert unseeded["seed_used"] > 0


def test_a_manual_silence_replaces_the_pause_at_its_gap(client: TestClient, outputs: Path) -> None:
    for name in "abc":
        put(outputs, f"{name}.wav", tone(0.5))
    answer = concat(
        client, ["a.wav", "(100ms)", "b.wav", "c.wav"], pause_duration_ms=1000, pause_variation_ms=0
    )
    assert answer["total_duration_seconds"] == pytest.approx(1.5 + 0.1 + 1.0, abs=0.002)


def test_crossfade_shortens_the_total_by_its_length_at_each_seam(client: TestClient, outputs: Path) -> None:
    for name in "abc":
        put(outputs, f"{name}.wav", tone(1.0))
    answer = concat(client, ["a.wav", "b.wav", "c.wav"], crossfade_ms=200)
    assert answer["total_duration_seconds"] == pytest.approx(3.0 - 2 * 0.2, abs=0.002)
    assert fetched(client, answer).duration == pytest.approx(2.6, abs=0.002)
    # a silence between two segments keeps them apart: no crossfade there
    apart = concat(client, ["a.wav", "(200ms)", "b.wav"], crossfade_ms=200)
    assert apart["total_duration_seconds"] == pytest.approx(2.2, abs=0.002)


def test_trim_cuts_each_segments_edge_silence_but_never_a_manual_silence(
    client: TestClient, outputs: Path
) -> None:
    quiet = np.zeros(24000, dtype=np.float32)
    put(outputs, "padded.wav", np.concatenate([quiet, tone(1.0), quiet]))
    answer = concat(client, ["padded.wav", "(1s)", "padded.wav"], trim=True, trim_threshold_ms=200)
    # each 1 s edge silence is cut to 50 ms: 1.1 s per segment, plus the 1 s silence kept whole
    assert answer["total_duration_seconds"] == pytest.approx(1.1 + 1.0 + 1.1, abs=0.02)
    trimmed = [item["trimmed_seconds"] for item in answer["metadata"]["recipe"] if item["type"] == "audio"]
    assert trimmed == [pytest.approx(1.9, abs=0.02)] * 2
    assert "_trim200" in answer["output_files"][0]


def test_every_format_round_trips_with_the_same_duration(client: TestClient, outputs: Path) -> None:
    put(outputs, "a.wav", tone(1.0))
    put(outputs, "b.mp3", tone(1.0, freq=660), fmt="mp3")
    formats = ["wav", "mp3", "flac", "opus", "aac", "pcm"]
    answer = concat(client, ["a.wav", "(250ms)", "b.mp3"], export_formats=formats)
    total = answer["total_duration_seconds"]
    assert [f["format"] for f in answer["files"]] == formats
    for index, fmt in enumerate(formats[:-1]):
        slack = 0.08 if fmt == "aac" else 0.03  # ADTS cannot signal the encoder's 1024-sample priming
        assert fetched(client, answer, index).duration == pytest.approx(total, abs=slack), fmt
    pcm = client.get(answer["files"][-1]["url"]).content
    assert len(pcm) == round(total * answer["sample_rate"]) * 2


def test_levels_and_whole_result_loudness(client: TestClient, outputs: Path) -> None:
    put(outputs, "loud.wav", tone(2.0, level=0.5))
    put(outputs, "quiet.wav", tone(2.0, level=0.02))
    levelled = concat(client, ["loud.wav", "quiet.wav"], normalize_levels=True, normalize_level=-20)
    clip = fetched(client, levelled)
    halves = [Clip(clip.samples[:48000], 24000), Clip(clip.samples[48000:], 24000)]
    assert [loudness(h) for h in halves] == [pytest.approx(-20, abs=0.5)] * 2
    assert "_leveled" in levelled["output_files"][0]
    whole = concat(client, ["loud.wav", "quiet.wav"], normalize=True, normalize_level=-30)
    assert loudness(fetched(client, whole)) == pytest.approx(-30, abs=0.5)
    assert whole["metadata"]["normalize_gain_db"] < 0


def test_library_prefixes_projects_and_names(setup: tuple[TestClient, Settings]) -> None:
    client, settings = setup
    put(Path(settings.paths.voices_dir), "narrator.wav", tone(0.5))
    put(Path(settings.paths.vc_inputs_dir), "take1.wav", tone(0.5))
    answer = concat(
        client,
        ["voice:narrator", "vc_input:take1.wav"],
        project="book/ch1",
        output_filename="chapter one.mp3",
    )
    assert answer["output_files"] == ["book/ch1/chapter one.wav"]
    assert (Path(settings.paths.outputs_dir) / "book/ch1/chapter one.wav").is_file()
    again = client.post(
        "/api/v1/concat",
        json={"files": ["voice:narrator"], "project": "book/ch1", "output_filename": "chapter one"},
    )
    assert again.status_code == 409 and again.json()["error"]["param"] == "output_filename"
    replaced = concat(
        client, ["voice:narrator"], project="book/ch1", output_filename="chapter one", overwrite=True
    )
    assert replaced["total_duration_seconds"] == pytest.approx(0.5, abs=0.002)


def test_overwriting_a_name_leaves_outputs_that_it_prefixes_alone(client: TestClient, outputs: Path) -> None:
    """``take`` with overwrite replaces take.*'s own formats, not the output named ``take.v2``."""
    put(outputs, "a.wav", tone(0.5))
    concat(client, ["a.wav"], output_filename="take.v2", export_formats=["wav", "mp3"])
    concat(client, ["a.wav"], output_filename="take", export_formats=["wav", "mp3"])
    concat(client, ["a.wav", "a.wav"], output_filename="take", overwrite=True, export_formats=["flac"])
    names = sorted(p.name for p in outputs.iterdir() if not p.name.startswith("."))
    assert names == ["a.wav", "take.flac", "take.json", "take.v2.json", "take.v2.mp3", "take.v2.wav"]


def test_stream_is_the_default_and_the_body_response_mode_is_honoured(
    client: TestClient, outputs: Path
) -> None:
    put(outputs, "a.wav", tone(0.5))
    streamed = client.post(
        "/api/v1/concat", json={"files": ["a.wav", "(0.5s)"], "export_formats": ["wav", "mp3"]}
    )
    assert streamed.status_code == 200 and streamed.headers["content-type"] == "audio/wav"
    assert 'filename="concat_' in streamed.headers["content-disposition"]
    assert decode(streamed.content).duration == pytest.approx(1.0, abs=0.002)
    assert streamed.headers["x-alternative-formats"].startswith("mp3:/outputs/concat_")
    as_json = client.post("/api/v1/concat", json={"files": ["a.wav"], "response_mode": "json"})
    assert as_json.headers["content-type"] == "application/json" and as_json.json()["success"] is True
    by_query = client.post(
        "/api/v1/concat?response_mode=stream&return_format=mp3",
        json={"files": ["a.wav"], "response_mode": "json", "export_formats": ["wav", "mp3"]},
    )
    assert by_query.headers["content-type"] == "audio/mpeg"


def test_metadata_records_the_whole_recipe(client: TestClient, outputs: Path) -> None:
    put(outputs, "a.wav", tone(1.0))
    put(outputs, "b.wav", tone(1.0))
    answer = concat(
        client,
        ["a.wav", "b.wav", "(300ms)", "a.wav"],
        crossfade_ms=100,
        pause_duration_ms=0,
        trim=True,
        seed=5,
        project="pod",
    )
    sidecar = json.loads((outputs / answer["output_files"][0]).with_suffix(".json").read_text())
    assert sidecar["type"] == "concat"
    assert sidecar["source_files"] == ["a.wav", "b.wav", "a.wav"]
    recipe = sidecar["recipe"]
    assert [item["type"] for item in recipe] == ["audio", "audio", "silence", "audio"]
    assert recipe[2] == {"index": 2, "source": "(300ms)", "type": "silence", "duration_seconds": 0.3}
    assert recipe[1]["crossfade_seconds"] == pytest.approx(0.1) and "crossfade_seconds" not in recipe[3]
    assert all("trimmed_seconds" in item for item in recipe if item["type"] == "audio")
    params = sidecar["parameters"]
    assert (params["crossfade_ms"], params["seed"], params["trim"]) == (100, 5, True)
    assert sidecar["files"] == {"wav": Path(answer["output_files"][0]).name}
    assert sidecar["duration_seconds"] == answer["total_duration_seconds"]


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ("(5 min)", "not a silence"),
        ("(0ms)", "out of range"),
        ("(20s)", "out of range"),
        ("missing.wav", "not found"),
        ("../secret.wav", "without '..'"),
        ("broken.wav", "could not be read as audio"),
        ("voice:nobody", "not found"),
    ],
)
def test_a_bad_item_is_a_400_naming_its_index_and_leaves_nothing(
    client: TestClient, outputs: Path, item: str, problem: str
) -> None:
    put(outputs, "a.wav", tone(0.5))
    (outputs / "broken.wav").write_bytes(b"RIFF0000WAVEnot really audio")
    before = listing(outputs)
    response = client.post("/api/v1/concat", json={"files": ["a.wav", "(1s)", item], "response_mode": "json"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "files[2]" and problem in error["message"]
    assert listing(outputs) == before


def test_bad_options_are_400s_naming_the_field(client: TestClient, outputs: Path) -> None:
    put(outputs, "a.wav", tone(0.5))
    cases = [
        ({"files": []}, "files"),
        ({"files": ["(1s)"]}, "files"),
        ({"files": ["a.wav"], "crossfade_ms": 6000}, "crossfade_ms"),
        ({"files": ["a.wav"], "export_formats": ["wma"]}, "export_formats"),
        ({"files": ["a.wav"], "output_filename": "../x"}, "output_filename"),
        ({"files": ["a.wav"], "project": "../../etc"}, "project"),
    ]
    for body, param in cases:
        response = client.post("/api/v1/concat", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["param"] == param, body


def dominant(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def test_mixed_uploads_keep_their_order(client: TestClient, outputs: Path) -> None:
    put(outputs, "server.wav", tone(0.5, freq=900))
    uploads = [
        ("uploaded_files", ("low.wav", encode(Clip(tone(0.5, freq=300), 24000), "wav"), "audio/wav")),
        ("uploaded_files", ("mid.flac", encode(Clip(tone(0.5, freq=600), 24000), "flac"), "audio/flac")),
    ]
    segments = [
        {"type": "upload", "index": 1},
        {"type": "server_file", "source": "server.wav"},
        {"type": "silence", "source": "(500ms)"},
        {"type": "upload", "index": 0},
    ]
    request = {"segments": segments, "normalize_levels": False, "project": "mix"}
    response = client.post(
        "/api/v1/concat/mixed?response_mode=json", data={"request_json": json.dumps(request)}, files=uploads
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["output_files"][0].startswith("mix/mixed_")
    clip = fetched(client, answer)
    assert clip.duration == pytest.approx(2.0, abs=0.002)
    parts = [clip.samples[int(s * 24000) : int((s + 0.5) * 24000)] for s in (0.0, 0.5, 1.5)]
    assert [round(dominant(p, 24000)) for p in parts] == [600, 900, 300]
    assert answer["metadata"]["source_files"] == ["upload:mid.flac", "server.wav", "upload:low.wav"]


def test_mixed_refuses_bad_json_and_unmatched_uploads(client: TestClient) -> None:
    one = [("uploaded_files", ("a.wav", encode(Clip(tone(0.5), 24000), "wav"), "audio/wav"))]
    cases = [
        ({"request_json": "{not json"}, [], "request_json"),
        ({"request_json": json.dumps({"segments": [{"type": "upload"}]})}, one, "request_json.segments.0"),
        (
            {"request_json": json.dumps({"segments": [{"type": "upload", "index": 1}]})},
            one,
            "segments[0].index",
        ),
        (
            {"request_json": json.dumps({"segments": [{"type": "silence", "source": "(1s)"}]})},
            one,
            "uploaded_files",
        ),
    ]
    for data, files, param in cases:
        response = client.post("/api/v1/concat/mixed", data=data, files=files or None)
        assert response.status_code == 400, (data, response.text)
        assert response.json()["error"]["param"] == param, (data, response.json())


def test_results_are_listed_as_concat_with_their_recipe(client: TestClient, outputs: Path) -> None:
    put(outputs, "a.wav", tone(0.5))
    made = concat(client, ["a.wav", "(1s)", "a.wav"], export_formats=["wav", "mp3"], project="pod")
    listed = client.get("/api/v1/outputs", params={"generation_type": "concat"})
    assert listed.status_code == 200, listed.text
    files = listed.json()["files"]
    assert sorted(item["filename"] for item in files) == sorted(Path(p).name for p in made["output_files"])
    assert len(files) == 2
    item = next(item for item in files if item["format"] == "wav")
    assert item["generation_type"] == "concat" and item["folder_path"] == "pod"
    assert item["duration_seconds"] == pytest.approx(2.0, abs=0.01)
    assert [step["source"] for step in item["metadata"]["recipe"]] == ["a.wav", "(1s)", "a.wav"]
    assert client.get(item["url"]).status_code == 200
