"""The cron endpoint: 202 and a run id at once, 401 without the key, and the run's status."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from release_notifier.db import Database
from release_notifier.jobs.queue import build_queue
from release_notifier.sandbox.emulator import SpotifyEmulator
from release_notifier.sandbox.mailcatcher import MailCatcher
from release_notifier.web import create_app
from tests.web.conftest import counts, web_settings_for

KEY = {"X-API-KEY": "test-cron-key"}


def test_the_right_key_queues_a_run_and_answers_202_with_its_id(
    client: FlaskClient, database: Database
) -> None:
    response = client.post("/scheduled/run-releases", headers=KEY)
    assert response.status_code == 202
    body = response.get_json()
    assert isinstance(body["run_id"], int)
    assert body["status_url"] == f"/scheduled/runs/{body['run_id']}"
    assert counts(database).runs == 1


def test_the_status_route_reports_the_state_and_counts_of_the_run(
    client: FlaskClient,
) -> None:
    run_id = client.post("/scheduled/run-releases", headers=KEY).get_json()["run_id"]
    status = client.get(f"/scheduled/runs/{run_id}", headers=KEY)
    assert status.status_code == 200
    body = status.get_json()
    assert body["id"] == run_id and body["trigger"] == "cron"
    assert body["state"] == "done"  # this test's queue runs each task as it is queued
    assert body["summary"]["users"] == 0
    assert body["finished_at"].endswith("Z")


def test_a_missing_key_is_401_and_queues_nothing(client: FlaskClient, database: Database) -> None:
    response = client.post("/scheduled/run-releases")
    assert response.status_code == 401
    assert counts(database).runs == 0


def test_a_wrong_key_is_401_and_queues_nothing(client: FlaskClient, database: Database) -> None:
    response = client.post("/scheduled/run-releases", headers={"X-API-KEY": "test-cron-kez"})
    assert response.status_code == 401
    assert counts(database).runs == 0


def test_the_status_route_needs_the_key_too(client: FlaskClient) -> None:
    run_id = client.post("/scheduled/run-releases", headers=KEY).get_json()["run_id"]
    assert client.get(f"/scheduled/runs/{run_id}").status_code == 401
    assert client.get(f"/scheduled/runs/{run_id}", headers={"X-API-KEY": "no"}).status_code == 401


def test_an_unknown_run_is_404(client: FlaskClient) -> None:
    assert client.get("/scheduled/runs/999", headers=KEY).status_code == 404


def test_without_a_cron_key_configured_the_endpoint_refuses_with_503(
    emulator: SpotifyEmulator, smtp: MailCatcher, tmp_path: Path, database: Database
) -> None:
    settings = web_settings_for(emulator, smtp, tmp_path, cron_secret_key="")
    app = create_app(settings, database, queue=build_queue(settings, database, immediate=True))
    response = app.test_client().post("/scheduled/run-releases", headers={"X-API-KEY": ""})
    assert response.status_code == 503
    assert counts(database).runs == 0


def test_the_original_get_is_not_allowed(app: Flask) -> None:
    assert app.test_client().get("/scheduled/run-releases", headers=KEY).status_code == 405
