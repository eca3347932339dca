"""docker-compose.yml, validated statically (no Docker engine runs on the lab's CI machines)."""

from __future__ import annotations

from pathlib import Path

import yaml

from labsqs import engine

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_localstack_image_is_pinned_to_a_tag_that_runs_without_a_token():
    image = _compose()["services"]["localstack"]["image"]
    name, _, tag = image.partition(":")
    assert name == "localstack/localstack"
    assert tag and tag != "latest" and not tag.startswith("2026")  # 2026.x images need an auth token


def test_auth_token_is_passed_through_when_set():
    env = _compose()["services"]["localstack"]["environment"]
    assert env["LOCALSTACK_AUTH_TOKEN"] == "${LOCALSTACK_AUTH_TOKEN:-}"


def test_docker_localstack_runs_the_same_services_as_the_hosts_engine():
    # the lessons call SQS, SNS, CloudWatch, S3 (the resume PDFs) and SES (their emails) on either engine
    services = _compose()["services"]["localstack"]["environment"]["SERVICES"]
    assert sorted(services.split(",")) == sorted(engine.LESSON_SERVICES)
    assert {"sqs", "sns", "cloudwatch", "s3", "ses"} <= set(services.split(","))


def test_every_published_port_is_bound_to_loopback():
    services = _compose()["services"]
    published = [p for svc in services.values() for p in svc.get("ports", [])]
    assert published, "the compose file publishes no port"
    for port in published:
        assert str(port).startswith("127.0.0.1:"), f"{port} would listen on every interface"
