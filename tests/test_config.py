"""Settings: defaults file, STAGEFLOW_CONFIG file, STAGEFLOW_* variables, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from stageflow.config import DEFAULTS_FILE, ConfigError, convert, load_config, read_toml


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_defaults_come_from_the_documented_file() -> None:
    settings = load_config(environ={})
    assert settings == read_toml(DEFAULTS_FILE)
    assert settings["workers"] == 2
    assert settings["database_url"] == ""  # a SQLite file in the instance folder
    # Every setting is documented by a comment line just above it.
    lines = DEFAULTS_FILE.read_text().splitlines()
    for key in settings:
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{key} ="))
        assert lines[index - 1].startswith("#"), f"{key} has no comment"


def test_each_source_overrides_the_one_before(tmp_path: Path) -> None:
    file = write(
        tmp_path / "site.toml", 'workers = 3\ntimezone = "Europe/Berlin"\nlog_level = "DEBUG"\n'
    )
    environ = {"STAGEFLOW_CONFIG": file, "STAGEFLOW_WORKERS": "5", "STAGEFLOW_LOG_LEVEL": "ERROR"}
    settings = load_config({"log_level": "WARNING"}, environ=environ)
    assert settings["timezone"] == "Europe/Berlin"  # file over default
    assert settings["workers"] == 5  # environment over file
    assert settings["log_level"] == "WARNING"  # overrides over environment
    assert settings["job_lease_seconds"] == 60  # default where nothing else says


def test_environment_values_are_converted_to_the_settings_type() -> None:
    settings = load_config(
        environ={
            "STAGEFLOW_DATABASE_URL": "postgresql://stageflow@db/stageflow",
            "STAGEFLOW_SECRET_KEY": "s3cret",
            "STAGEFLOW_SQLITE_BUSY_TIMEOUT_MS": " 250 ",
            "STAGEFLOW_UNRELATED_THING": "ignored",
        }
    )
    assert settings["database_url"] == "postgresql://stageflow@db/stageflow"
    assert settings["secret_key"] == "s3cret"
    assert settings["sqlite_busy_timeout_ms"] == 250


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("Yes", True), ("on", True), ("1", True), ("false", False), ("0", False)],
)
def test_boolean_text(text: str, expected: bool) -> None:
    assert convert("debug", text, False, "environment", text=True) is expected


def test_text_is_parsed_only_from_the_environment() -> None:
    assert convert("workers", "4", 2, "environment", text=True) == 4
    assert convert("ratio", "2.5", 1.0, "environment", text=True) == 2.5
    assert convert("ratio", 2, 1.0, "file.toml") == 2.0
    with pytest.raises(ConfigError, match=r"^file.toml: workers must be a whole number"):
        convert("workers", "4", 2, "file.toml")
    with pytest.raises(
        ConfigError, match=r"^environment: debug must be true or false, got 'maybe'"
    ):
        convert("debug", "maybe", False, "environment", text=True)


def test_list_text_is_names_separated_by_commas_or_a_json_array() -> None:
    assert convert("channels", " log, email ,", ["log"], "environment", text=True) == [
        "log",
        "email",
    ]
    assert convert("channels", '["log", "chat"]', ["log"], "environment", text=True) == [
        "log",
        "chat",
    ]
    assert convert("channels", "", ["log"], "environment", text=True) == []
    with pytest.raises(ConfigError, match=r"^file.toml: channels must be a list \(in the env"):
        convert("channels", "log", ["log"], "file.toml")
    with pytest.raises(ConfigError, match=r"channels must be a list .*got '\[\"log\"'"):
        convert("channels", '["log"', ["log"], "environment", text=True)


def test_bad_environment_value_names_the_variable_and_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ={"STAGEFLOW_WORKERS": "four"})
    assert str(caught.value) == (
        "environment variable STAGEFLOW_WORKERS: workers must be a whole number (e.g. 5), "
        "got 'four'"
    )


def test_bad_file_value_names_the_file_and_key(tmp_path: Path) -> None:
    file = write(tmp_path / "site.toml", 'workers = "4"\n')
    with pytest.raises(ConfigError, match=rf"^{tmp_path}/site.toml: workers must be a whole"):
        load_config(environ={"STAGEFLOW_CONFIG": file})


def test_unknown_key_in_file_lists_the_known_ones(tmp_path: Path) -> None:
    file = write(tmp_path / "site.toml", 'databse_url = "sqlite:///x.db"\n')
    with pytest.raises(
        ConfigError,
        match=r"site.toml: unknown setting 'databse_url'; known settings: .*database_url",
    ):
        load_config(environ={"STAGEFLOW_CONFIG": file})


def test_missing_or_malformed_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere.toml: configuration file not found"):
        load_config(environ={"STAGEFLOW_CONFIG": str(tmp_path / "nowhere.toml")})
    file = write(tmp_path / "broken.toml", "workers = \n")
    with pytest.raises(ConfigError, match=r"broken.toml: not valid TOML: .*line 1"):
        load_config(environ={"STAGEFLOW_CONFIG": file})


def test_range_checks_name_key_and_source() -> None:
    with pytest.raises(
        ConfigError, match=r"STAGEFLOW_WORKERS: workers: must be at least 0, got -1"
    ):
        load_config(environ={"STAGEFLOW_WORKERS": "-1"})
    with pytest.raises(
        ConfigError, match=r"STAGEFLOW_TIMEZONE: timezone: must be an IANA time zone"
    ):
        load_config(environ={"STAGEFLOW_TIMEZONE": "Mars/Olympus"})
    with pytest.raises(ConfigError, match=r"create_app\(config=...\): log_level: must be one of"):
        load_config({"log_level": "LOUD"}, environ={})


def test_overrides_accept_either_case_and_pass_flask_settings_through() -> None:
    settings = load_config({"WORKERS": 0, "TESTING": True, "SERVER_NAME": "x.test"}, environ={})
    assert settings["workers"] == 0
    assert settings["TESTING"] is True
    assert settings["SERVER_NAME"] == "x.test"
    with pytest.raises(ConfigError, match=r"create_app\(config=...\): unknown setting 'wrokers'"):
        load_config({"wrokers": 1}, environ={})
    with pytest.raises(ConfigError, match=r"workers must be a whole number .*got True"):
        load_config({"workers": True}, environ={})
