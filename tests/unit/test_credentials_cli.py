"""`fleet credentials --json`: exactly the shape the README and issue promise, with tokens
the API's verifier accepts in the role each is printed under."""

import argparse
import json
from pathlib import Path

import pytest

from contracts.roles import Role
from fleet import credentials_cli
from fleet.identity import api_auth_env
from fleet.secrets import API_ISSUER_KEY, ensure_secrets
from orchestrator.auth import AuthSettings, TokenVerifier


def test_the_json_has_the_promised_shape_and_working_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLEET_HOME", str(tmp_path))
    args = argparse.Namespace(target="local", json=True)
    assert credentials_cli.cmd_credentials(args) == 0
    printed = json.loads(capsys.readouterr().out)

    assert set(printed) == {"api", "kafka"}
    assert set(printed["api"]) == {"client", "operator", "admin"}
    kafka = printed["kafka"]
    assert kafka["bootstrap"] == "127.0.0.1:9092"
    assert (kafka["security_protocol"], kafka["sasl_mechanism"]) == (
        "SASL_PLAINTEXT",
        "SCRAM-SHA-512",
    )
    assert set(kafka["principals"]) == {"producer", "approver", "reader"}
    stored = ensure_secrets()
    for name, user in kafka["principals"].items():
        assert user == {"username": name, "password": stored[f"kafka-{name}-password"]}

    for key, value in api_auth_env(stored[API_ISSUER_KEY]).items():
        monkeypatch.setenv(key, value)
    verifier = TokenVerifier(AuthSettings.from_env())
    for role in Role:
        assert verifier.verify(printed["api"][role.value]).role == role
