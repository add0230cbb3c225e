"""The clients' credentials are fetched by the first signed request, not when a client is built, and can be
forgotten (a restored SnapStart copy fetches its own) or stood in for (requests that never leave)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import NoCredentialsError

from shared import aws_clients
from shared.deferred_credentials import PLACEHOLDER
from tests.fakes.credentials_server import TOKEN, FakeCredentialsEndpoint
from tests.fakes.moto_server import MotoServer


@pytest.fixture
def container_credentials(
    aws: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> Iterator[FakeCredentialsEndpoint]:
    """Credentials only from a container endpoint, as Lambda gives a SnapStart function."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with FakeCredentialsEndpoint() as endpoint:
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.uri)
        monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", TOKEN)
        aws_clients.reset_clients()
        yield endpoint
    aws_clients.reset_clients()


def test_given_container_credentials_when_a_client_is_built_then_nothing_is_fetched_until_it_signs(
    container_credentials: FakeCredentialsEndpoint,
) -> None:
    dynamodb = aws_clients.client("dynamodb")
    aws_clients.client("cloudwatch")

    assert container_credentials.fetches == 0
    assert aws_clients.credentials().resolved is False
    dynamodb.list_tables()
    aws_clients.client("cloudwatch").list_metrics()
    assert container_credentials.fetches == 1  # one fetch for every client of the process
    assert aws_clients.credentials().access_key == "ASIAFAKE00000001"


def test_given_fetched_credentials_when_forgotten_then_the_next_request_fetches_new_ones(
    container_credentials: FakeCredentialsEndpoint,
) -> None:
    dynamodb = aws_clients.client("dynamodb")
    dynamodb.list_tables()

    aws_clients.forget_credentials()

    assert aws_clients.credentials().resolved is False
    dynamodb.list_tables()
    assert container_credentials.fetches == 2
    assert aws_clients.credentials().access_key == "ASIAFAKE00000002"


def test_given_a_stand_in_when_requests_are_signed_inside_then_nothing_is_fetched_or_kept(
    container_credentials: FakeCredentialsEndpoint,
) -> None:
    dynamodb = aws_clients.client("dynamodb")
    signed: list[str] = []
    dynamodb.meta.events.register(
        "before-send.dynamodb.ListTables",
        lambda request, **_: signed.append(request.headers["Authorization"]),
    )

    with aws_clients.credentials().standing_in():
        dynamodb.list_tables()

    assert container_credentials.fetches == 0
    assert f"Credential={PLACEHOLDER.access_key}/" in signed[0].decode()
    assert aws_clients.credentials().resolved is False


def test_given_no_credentials_anywhere_when_built_then_only_the_request_fails(
    container_credentials: FakeCredentialsEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    aws_clients.reset_clients()

    dynamodb = aws_clients.client("dynamodb")

    with pytest.raises(NoCredentialsError):
        dynamodb.list_tables()


def test_given_clients_with_open_connections_when_closed_then_their_pools_are_empty_and_they_still_work(
    aws: MotoServer,
) -> None:
    dynamodb = aws_clients.client("dynamodb")
    dynamodb.list_tables()
    # botocore's own pool manager (private; no public view of the pools exists)
    pools = dynamodb._endpoint.http_session._manager.pools
    assert len(pools) == 1

    aws_clients.close_connections()

    assert len(pools) == 0
    dynamodb.list_tables()
    assert len(pools) == 1
