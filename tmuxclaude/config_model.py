"""The pydantic-settings model behind ``config.Config``, derived from its fields.

Imported only on a cache miss or by ``tclaude config``: pydantic costs more
start-up time than the hot commands have.
"""

from __future__ import annotations

import os
import tomllib
import typing
from dataclasses import MISSING, fields
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from .config import ENV_PREFIX, Config
from .errors import ConfigError
from .port_range import parse_range


def _model(config_path: str) -> type[BaseSettings]:
    namespace: dict[str, Any] = {"__annotations__": typing.get_type_hints(Config)}
    for f in fields(Config):
        if f.default_factory is not MISSING:
            namespace[f.name] = Field(default_factory=f.default_factory)
        else:
            namespace[f.name] = f.default
    namespace["model_config"] = SettingsConfigDict(
        env_prefix=ENV_PREFIX, toml_file=config_path, extra="forbid"
    )

    def customise(
        cls: type[BaseSettings],
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def check_range(cls: type[BaseSettings], value: str) -> str:
        parse_range(value)
        return value

    def check_remotes(
        cls: type[BaseSettings], value: dict[str, dict[str, str | float]]
    ) -> dict[str, dict[str, str | float]]:
        from .remote.names import check_remote

        for name, table in value.items():
            check_remote(name, table)
        return value

    def check_timeout(cls: type[BaseSettings], value: float) -> float:
        if not 0 < value <= 600:
            raise ValueError("seconds between 0 and 600")
        return value

    namespace["_check_remotes"] = field_validator("remotes")(classmethod(check_remotes))
    namespace["_check_timeout"] = field_validator("remote_timeout")(classmethod(check_timeout))
    namespace["settings_customise_sources"] = classmethod(customise)
    namespace["_check_range"] = field_validator("port_range")(classmethod(check_range))
    return type("TclaudeSettings", (BaseSettings,), namespace)


def _file_values(config_path: str) -> dict[str, Any]:
    try:
        with open(config_path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {config_path}: {exc}") from None


def build(config_path: str) -> dict[str, Any]:
    """Validated values of every key from the file and the environment."""
    file_values = _file_values(config_path)
    try:
        settings = _model(config_path)()
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "?"
        where = _where(key.split(".")[0], file_values, config_path)
        reason = first["msg"]
        raise ConfigError(f"config: {key}: {reason} (from {where})") from None
    except SettingsError as exc:  # e.g. TCLAUDE_NOTIFY=bell: lists come as JSON
        raise ConfigError(
            f"config: {exc}; list values in TCLAUDE_* variables are JSON, "
            """e.g. TCLAUDE_NOTIFY='["bell"]'"""
        ) from None
    return settings.model_dump()


def _where(key: str, file_values: dict[str, Any], config_path: str) -> str:
    if ENV_PREFIX + key.upper() in os.environ:
        return f"${ENV_PREFIX}{key.upper()}"
    if key in file_values:
        return config_path
    return "default" if key in {f.name for f in fields(Config)} else config_path


def explain(config_path: str) -> dict[str, tuple[Any, str]]:
    """Each key's value and its source (env variable, file path or 'default')."""
    values = build(config_path)
    file_values = _file_values(config_path)
    return {key: (value, _where(key, file_values, config_path)) for key, value in values.items()}
