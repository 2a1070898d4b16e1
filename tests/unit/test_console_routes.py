"""The console's page and files are served by the public API app, offline."""

import re

from fastapi import FastAPI

from orchestrator.console.routes import STATIC, install_console
from tests.unit import asgi


def _console() -> FastAPI:
    api = FastAPI()
    install_console(api, zipkin_url="http://zipkin.example:9411")
    return api


def test_index_names_zipkin_and_loads_the_app_module() -> None:
    response = asgi.get(_console(), "/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert '<meta name="zipkin-url" content="http://zipkin.example:9411">' in response.text
    assert '<script type="module" src="/console/app.js">' in response.text


def test_every_module_the_page_imports_is_served_and_nothing_is_remote() -> None:
    api = _console()
    for path in sorted(STATIC.iterdir()):
        text = path.read_text(encoding="utf-8")
        # Offline by design: no CDN, no external fonts or scripts.
        assert not re.search(r"""(src|href)=["']https?://""", text), path.name
        for imported in re.findall(r"""from "\./([\w.-]+)";""", text):
            assert (STATIC / imported).is_file(), f"{path.name} imports missing {imported}"
        response = asgi.get(api, f"/console/{path.name}")
        assert response.status_code == 200, path.name
        assert response.headers["cache-control"] == "no-cache"
    assert asgi.get(api, "/console/app.js").headers["content-type"].split(";")[0] in {
        "text/javascript",
        "application/javascript",
    }
