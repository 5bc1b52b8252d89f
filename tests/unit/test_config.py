"""Configuration: YAML defaults, environment overrides, one clear message for a bad value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config import DEFAULT_CONFIG_FILE, Settings, load_settings
from exceptions import ConfigError


def test_shipped_yaml_matches_the_code_defaults() -> None:
    assert load_settings(DEFAULT_CONFIG_FILE) == Settings()


def test_yaml_values_are_read(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("server:\n  port: 9001\nmodels:\n  device: cpu\n")
    settings = load_settings(config)
    assert settings.server.port == 9001
    assert settings.models.device == "cpu"
    assert settings.server.host == "127.0.0.1"  # untouched keys keep their defaults


def test_environment_overrides_yaml_with_nested_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("server:\n  port: 9001\n")
    monkeypatch.setenv("CHATTERBOX_SERVER__PORT", "9002")
    monkeypatch.setenv("CHATTERBOX_MODELS__CHECKPOINT_DIR", "/models/chatterbox")
    monkeypatch.setenv("CHATTERBOX_ENGINES__ENABLED", '["piper"]')
    settings = load_settings(config)
    assert settings.server.port == 9002
    assert settings.models.checkpoint_dir == Path("/models/chatterbox")
    assert settings.engines.enabled == ["piper"]


def test_config_file_can_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "other.yaml"
    config.write_text("server:\n  port: 9100\n")
    monkeypatch.setenv("CHATTERBOX_CONFIG_FILE", str(config))
    assert load_settings().server.port == 9100


def test_bad_value_names_the_key_and_the_allowed_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATTERBOX_MODELS__DEVICE", "gpu")
    with pytest.raises(ConfigError) as caught:
        load_settings(DEFAULT_CONFIG_FILE)
    message = str(caught.value)
    assert "models.device" in message
    assert "'auto', 'cuda', 'mps' or 'cpu'" in message
    assert "'gpu'" in message


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("server:\n  port: 70000\n", "server.port"),
        ("models:\n  devcie: cpu\n", "models.devcie"),
        ("limits:\n  max_text_length: zero\n", "limits.max_text_length"),
        ("engines:\n  default: kokoro\n", "engines.default"),
        ("models:\n  t3_batch_size: 0\n", "models.t3_batch_size"),
        ("models:\n  t3_batch_size: 65\n", "models.t3_batch_size"),
        ("piper:\n  noise_scale: -0.1\n", "piper.noise_scale"),
        ("piper:\n  noise_w_scale: 2.5\n", "piper.noise_w_scale"),
    ],
)
def test_bad_yaml_values_are_refused_with_their_key(tmp_path: Path, yaml_text: str, key: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml_text)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(config)


def test_broken_yaml_and_missing_file_are_clear(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("server: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(broken)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "absent.yaml")


def test_public_dict_removes_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATTERBOX_MODELS__HF_TOKEN", "hf_secret_value")
    settings = load_settings(DEFAULT_CONFIG_FILE)
    assert settings.models.hf_token is not None
    assert "hf_secret_value" not in str(settings.public_dict())
    assert "hf_token" not in settings.public_dict()["models"]


def test_the_index_url_must_name_postgresql_and_its_password_is_never_shown() -> None:
    with pytest.raises(ConfigError, match=r"index\.url: .*PostgreSQL URL"):
        load_settings(DEFAULT_CONFIG_FILE, index={"url": "mysql://db.example/speech"})
    settings = load_settings(DEFAULT_CONFIG_FILE, index={"url": "postgresql://speech:s3cret@db:5432/speech"})
    assert settings.index.url == "postgresql://speech:s3cret@db:5432/speech"
    assert settings.public_dict()["index"]["url"] == "postgresql://speech:***@db:5432/speech"
    assert load_settings(DEFAULT_CONFIG_FILE).public_dict()["index"]["url"] is None


def test_the_default_index_never_imports_psycopg(tmp_path: Path) -> None:
    """psycopg is the optional extra `postgres`: a server on SQLite starts without it."""
    code = (
        "import sys; from pathlib import Path; from management.index import open_index; "
        f"index = open_index(None, Path({str(tmp_path / 'i.sqlite3')!r})); index.stamps('outputs'); "
        "assert 'psycopg' not in sys.modules, 'psycopg imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_a_postgresql_index_without_its_driver_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from management.index import open_index

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the extra were not installed
    monkeypatch.delitem(sys.modules, "management.index_postgres", raising=False)
    with pytest.raises(ConfigError, match=r"index\.url .*uv sync --extra postgres"):
        open_index("postgresql://db/speech", Path("unused"))
