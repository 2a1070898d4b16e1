from contracts.schemas import SCHEMA_DIR, rendered


def test_committed_json_schemas_match_the_contracts() -> None:
    committed = {path.name: path.read_text() for path in SCHEMA_DIR.glob("*.json")}
    assert committed == rendered(), "run `python -m contracts.schemas` and commit the result"
