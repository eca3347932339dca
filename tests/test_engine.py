"""The engine manager: up/down/status, reuse, loopback-only binding, the moto fallback, clear errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from labsqs import cli, engine
from labsqs.client import sqs_client
from labsqs.errors import PortInUse, UnknownEngine

LABSQS = str(Path(sys.executable).with_name("labsqs"))


def test_unknown_engine_name_is_a_clear_error():
    with pytest.raises(UnknownEngine, match="choose one of localstack, moto, docker, aws"):
        engine.engine_name("elasticmq")


def test_the_engine_python_runs_the_localstack_line_chosen():
    line, python = engine.find_localstack_python()
    out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert line.runs_on(tuple(map(int, out.stdout.split())))  # type: ignore[arg-type]


def test_without_python_3_13_the_lab_python_runs_localstack_4_13(monkeypatch):
    # GIVEN no Python >= 3.13 anywhere (only the lab's own 3.11/3.12)
    monkeypatch.setattr(engine.lines, "_python_candidates", lambda: [])
    monkeypatch.delenv("LABSQS_LOCALSTACK", raising=False)
    # THEN the 4.13.1 line is chosen, on the lab's own interpreter
    line, python = engine.find_localstack_python()
    assert (line.version, python) == ("4.13.1", engine._lab_python())


def test_an_unknown_localstack_line_says_which_exist():
    with pytest.raises(engine.EngineError, match="choose one of 2026.3.0, 4.13.1"):
        engine.find_localstack_python("3.0")


@pytest.mark.engine
def test_default_engine_listens_on_loopback_only(engine_state):
    # GIVEN the lab's LocalStack engine
    assert engine_state.engine == "localstack"
    # THEN every socket listening on its port is bound to 127.0.0.1 (none on 0.0.0.0 / ::)
    assert engine.listening_addresses(engine_state.port) == {"127.0.0.1"}


@pytest.mark.engine
def test_up_twice_reuses_the_running_engine(engine_state):
    again = engine.up(progress=lambda _: None)
    assert again.reused and again.pid == engine_state.pid


@pytest.mark.engine
def test_status_names_the_engine_and_the_command_lists_queue_depth(sqs, make_queue, capsys):
    st = engine.status()
    assert st.answering and st.engine == "localstack"
    assert st.version in {line.version for line in engine.LOCALSTACK_LINES} and st.python
    assert "answering yes" in st.render()
    # `labsqs status` adds every queue with its depth (read by the queues' layer, not the engine's)
    url = make_queue("depth")
    sqs.send_message(QueueUrl=url, MessageBody="one")
    assert cli.main(["status"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()[7:]}
    assert rows[url.rsplit("/", 1)[-1]] == ["1", "0", "0"]


@pytest.mark.engine
def test_a_second_engine_starts_reuses_and_stops_leaving_nothing(tmp_path):
    # GIVEN a free port and a separate state folder (the shared engine keeps running)
    port = engine.free_port()
    state = engine.up(port=port, home=tmp_path, progress=lambda _: None)
    try:
        assert not state.reused and engine.pid_alive(state.pid)
        assert engine.listening_addresses(port) == {"127.0.0.1"}
        # WHEN it is started again THEN the same process is reused
        assert engine.up(port=port, home=tmp_path, progress=lambda _: None).pid == state.pid
    finally:
        # WHEN it is stopped
        assert engine.down(port=port, home=tmp_path, progress=lambda _: None)
    # THEN no process and no listening port remain, and the state file is gone
    assert not engine.pid_alive(state.pid)
    assert engine.listening_addresses(port) == set()
    assert engine.current(port, tmp_path) is None


def test_port_taken_by_another_program_is_a_clear_error(tmp_path):
    # GIVEN something that is not an SQS engine listening on a port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        # WHEN the lab is asked to start an engine there THEN it says so and how to pick another port
        with pytest.raises(PortInUse, match=f"port {port}.*--port {port + 1}"):
            engine.up("moto", port=port, home=tmp_path, progress=lambda _: None)


def test_moto_engine_starts_warns_and_serves_sqs(tmp_path):
    port, said = engine.free_port(), []
    state = engine.up("moto", port=port, home=tmp_path, progress=said.append)
    try:
        assert state.engine == "moto" and state.version.startswith("moto ")
        assert any("backlog grows" in line for line in said)  # the throughput warning
        sqs = sqs_client(state.endpoint)
        url = sqs.create_queue(QueueName="fallback-check")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="via moto")
        assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "via moto"
        assert engine.listening_addresses(port) == {"127.0.0.1"}
    finally:
        engine.down(port=port, home=tmp_path, progress=lambda _: None)
    assert not engine.pid_alive(state.pid)


def _no_localstack_python(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("LABSQS_HOME", str(home))
    monkeypatch.setattr(engine.lines, "_python_candidates", lambda: [])
    monkeypatch.setattr(engine.lines, "_lab_python", lambda: str(home / "no-python"))


def test_without_any_localstack_python_the_default_engine_falls_back_to_moto(tmp_path, monkeypatch):
    # GIVEN a machine where LocalStack cannot be installed at all (no Python runs any of its lines)
    _no_localstack_python(monkeypatch, tmp_path)
    monkeypatch.delenv("LABSQS_ENGINE", raising=False)
    port, said = engine.free_port(), []
    # WHEN the default engine is asked for
    state = engine.up(port=port, progress=said.append)
    try:
        # THEN moto runs as the last resort, the user is told why, and the start line names moto
        assert state.engine == "moto"
        assert any("no Python for the LocalStack engine" in line for line in said)
        assert any("backlog grows" in line for line in said)
        assert said[-1].startswith(f"moto {state.version.removeprefix('moto ')} ready at ")
    finally:
        engine.down(port=port, progress=lambda _: None)


def test_asking_for_localstack_without_its_python_says_what_to_do(tmp_path, monkeypatch):
    _no_localstack_python(monkeypatch, tmp_path)
    with pytest.raises(engine.PythonNotFound, match="--engine moto"):
        engine.up("localstack", port=engine.free_port(), progress=lambda _: None)


def test_docker_engine_without_docker_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker binary reachable
    with pytest.raises(engine.EngineError, match="no Docker engine"):
        engine.up("docker", port=engine.free_port(), home=tmp_path, progress=lambda _: None)


@pytest.mark.engine
def test_cli_status_and_error_exit_codes(engine_state):
    ok = subprocess.run([LABSQS, "status"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and engine_state.endpoint in ok.stdout
    bad = subprocess.run([LABSQS, "status", "--endpoint", f"http://127.0.0.1:{engine.free_port()}"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 1 and "labsqs up" in bad.stdout
    env = dict(os.environ, LABSQS_ENGINE="nope")
    unknown = subprocess.run([LABSQS, "up"], capture_output=True, text=True, timeout=60, env=env)
    assert unknown.returncode == 2 and "unknown engine 'nope'" in unknown.stderr
