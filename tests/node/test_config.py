"""Settings refuse what would be unsafe whatever else they say."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sdgcities.node.config import (
    DEVELOPMENT_PASSPHRASE,
    Environment,
    PasswordHashCost,
    Settings,
)


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"]
)
def test_the_development_passphrase_is_accepted_on_loopback_in_development(base_url):
    settings = _settings(base_url=base_url)

    assert settings.key_passphrase.get_secret_value() == DEVELOPMENT_PASSPHRASE


@pytest.mark.parametrize(
    "base_url", ["https://ke.sdgcities.example", "https://10.0.0.5", "https://127.evil.example"]
)
def test_the_development_passphrase_is_refused_off_loopback_even_in_development(base_url):
    with pytest.raises(ValidationError, match="is not on loopback"):
        _settings(base_url=base_url, environment=Environment.DEVELOPMENT)


def test_the_development_passphrase_is_refused_in_production():
    with pytest.raises(ValidationError, match="secret of your own in production"):
        _settings(environment=Environment.PRODUCTION, base_url="https://ke.sdgcities.example")


def test_a_passphrase_of_ones_own_is_accepted_anywhere():
    settings = _settings(base_url="https://ke.sdgcities.example", key_passphrase="a secret")

    assert settings.base_url == "https://ke.sdgcities.example"


def test_passwords_hash_at_the_standard_cost_unless_told_otherwise():
    assert _settings().password_hash_cost is PasswordHashCost.STANDARD


def test_the_minimal_password_hash_cost_is_accepted_on_loopback_in_development():
    settings = _settings(password_hash_cost="minimal")

    assert settings.password_hash_cost is PasswordHashCost.MINIMAL


def test_the_minimal_password_hash_cost_is_refused_off_loopback():
    with pytest.raises(ValidationError, match="for test suites"):
        _settings(
            password_hash_cost="minimal",
            base_url="https://ke.sdgcities.example",
            key_passphrase="a secret",
        )


def test_the_minimal_password_hash_cost_is_refused_in_production():
    with pytest.raises(ValidationError, match="for test suites"):
        _settings(
            password_hash_cost="minimal", environment=Environment.PRODUCTION, key_passphrase="s"
        )
