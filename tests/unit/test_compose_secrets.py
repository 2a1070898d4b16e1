"""Compose's secrets are one set per machine: every checkout hands the same password to
the one PostgreSQL volume of the compose project."""

import json
from pathlib import Path

import pytest

from fleet.containers import compose_secrets


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    cache, checkout = tmp_path / "cache", tmp_path / "checkout" / "secrets.json"
    monkeypatch.setattr(compose_secrets, "cache_dir", lambda: cache)
    monkeypatch.setattr(compose_secrets, "secrets_file", lambda: checkout)
    return cache, checkout


def test_two_checkouts_get_the_same_secrets(homes: tuple[Path, Path]) -> None:
    first = compose_secrets.ensure_compose_secrets()
    assert set(first) == {*compose_secrets.NAMES, compose_secrets.ISSUER_KEY}
    assert compose_secrets.ensure_compose_secrets() == first
    assert compose_secrets.compose_secrets_file().stat().st_mode & 0o777 == 0o600
    assert compose_secrets.compose_secrets_file().parent.stat().st_mode & 0o777 == 0o700


def test_a_checkouts_earlier_secrets_are_taken_over(homes: tuple[Path, Path]) -> None:
    _, checkout = homes
    old = {name: f"old-{name}" for name in compose_secrets.NAMES}
    checkout.parent.mkdir(parents=True)
    checkout.with_name("compose-secrets.json").write_text(json.dumps(old))
    taken = compose_secrets.ensure_compose_secrets()
    assert {name: taken[name] for name in compose_secrets.NAMES} == old
    # A secret added since (the token issuer's key) is generated beside the old ones.
    assert taken[compose_secrets.ISSUER_KEY].startswith("-----BEGIN PRIVATE KEY-----")
    assert json.loads(compose_secrets.compose_secrets_file().read_text()) == taken


def test_compose_is_handed_the_issuers_public_keys_not_its_private_key(
    homes: tuple[Path, Path],
) -> None:
    handed = compose_secrets.compose_interpolation()
    assert "PRIVATE KEY" not in json.dumps(handed)
    assert json.loads(handed["API_AUTH_JWKS"])["keys"][0]["kty"] == "EC"
