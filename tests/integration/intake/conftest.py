from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put test directories on sys.path; the support module has a unique name.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake_api_support import (  # noqa: E402
    BUREAU_BAOTOU,
    BUREAU_ORDOS,
    COAL_MINE,
    ENT1,
    ENT2,
    REGION,
    REVIEWER,
    Api,
    ThreadedServer,
    with_scoring,
)


@pytest.fixture
def scoring_server(settings):
    """The real scoring service's web app on a real port (intake calls it over HTTP, never imports it)."""
    from scoring.entrypoints.http import create_app as create_scoring

    server = ThreadedServer(create_scoring(settings))
    yield server
    server.stop()


@pytest.fixture
def intake_settings(settings, scoring_server):
    return with_scoring(settings, scoring_server.url)


@pytest.fixture
def intake_app(intake_settings):
    from intake.entrypoints.http import create_app

    return create_app(intake_settings)


@pytest.fixture
def client(intake_app):
    return intake_app.test_client()


@pytest.fixture
def service(intake_app):
    """The wired intake service behind the app (``intake.bootstrap.Intake``: bus, store, db, files)."""
    return intake_app.extensions["greenmine"]["intake"]()


@pytest.fixture
def ent1(client, intake_settings):
    return Api(client, intake_settings, ENT1)


@pytest.fixture
def ent2(client, intake_settings):
    return Api(client, intake_settings, ENT2)


@pytest.fixture
def bureau(client, intake_settings):
    return Api(client, intake_settings, BUREAU_ORDOS)


@pytest.fixture
def bureau_baotou(client, intake_settings):
    return Api(client, intake_settings, BUREAU_BAOTOU)


@pytest.fixture
def region(client, intake_settings):
    return Api(client, intake_settings, REGION)


@pytest.fixture
def reviewer(client, intake_settings):
    return Api(client, intake_settings, REVIEWER)


@pytest.fixture
def coal(ent1):
    response = ent1.post("/api/v1/mines", COAL_MINE)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["id"]


@pytest.fixture
def draft(ent1, coal):
    response = ent1.post("/api/v1/applications", {"mine_id": coal})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["id"]
