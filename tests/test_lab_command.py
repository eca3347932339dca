"""`labsqs lab` (what `make lab` runs): engine + JupyterLab on loopback, Ctrl-C stops both."""

from __future__ import annotations

import argparse
import importlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from labsqs import cli, engine

LABSQS = str(Path(sys.executable).with_name("labsqs"))


def test_lab_starts_engine_and_jupyter_on_loopback_and_ctrl_c_stops_both(tmp_path):
    # GIVEN free ports and a fresh lab folder (moto engine: no second LocalStack install needed here)
    sqs_port, jupyter_port = engine.free_port(), engine.free_port()
    env = dict(os.environ, LABSQS_HOME=str(tmp_path), JUPYTER_CONFIG_DIR=str(tmp_path / "jcfg"))
    env.pop("LABSQS_ENDPOINT", None)
    # (as in a terminal, Ctrl-C is not ignored: a run started in the background by a script, as `cmd &`
    # without job control, would otherwise pass SIGINT on ignored, and `labsqs lab` could not see it)
    proc = subprocess.Popen(
        [LABSQS, "lab", "--engine", "moto", "--port", str(sqs_port), "--jupyter-port", str(jupyter_port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    lines: list[str] = []
    try:
        # WHEN it is up THEN it printed the URL with its token, and both servers listen on loopback only
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if re.search(rf"http://127\.0\.0\.1:{jupyter_port}/lab\?token=\w+", line):
                break
        else:
            raise AssertionError("no JupyterLab URL printed:\n" + "".join(lines[-20:]))
        # keep reading: JupyterLab logs into the same pipe, and a full pipe would block it and `labsqs lab`
        threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
        while not engine.listening_addresses(jupyter_port) and time.monotonic() < deadline:
            time.sleep(0.1)  # the URL is printed just before the socket shows in /proc/net/tcp
        assert engine.listening_addresses(jupyter_port) == {"127.0.0.1"}, "".join(lines)
        assert engine.listening_addresses(sqs_port) == {"127.0.0.1"}
        state = engine.current(sqs_port, tmp_path)
        assert state is not None and engine.pid_alive(state.pid)
    finally:
        # WHEN the user presses Ctrl-C
        os.killpg(proc.pid, signal.SIGINT)
        rc = proc.wait(timeout=120)  # Jupyter and the engine each get 15 s to stop, then a kill
    # THEN both are gone: no listening port, no engine process
    assert rc == 0, "".join(lines[-30:])
    assert engine.listening_addresses(jupyter_port) == set()
    assert engine.listening_addresses(sqs_port) == set()
    assert not engine.pid_alive(state.pid)


@pytest.mark.parametrize(("name", "module", "help_line"), cli.TOOL_COMMANDS)
def test_each_tool_subcommand_is_registered_by_its_module_with_the_help_labsqs_lists(name, module, help_line):
    # GIVEN the module the table names for a tool's subcommand
    sub = argparse.ArgumentParser().add_subparsers()
    commands: dict = {}
    importlib.import_module(module).register_cli(sub, commands)
    # THEN it registers that subcommand, with the help line `labsqs --help` shows without importing it
    assert name in commands
    assert {action.dest: action.help for action in sub._choices_actions}[name] == help_line


def test_the_engine_commands_import_no_tool_module():
    # WHEN `labsqs --help` and `labsqs up`'s parser run in a fresh interpreter
    probe = (
        "import contextlib, sys\n"
        "from labsqs import cli\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(None):\n"
        "    cli.main(['--help'])\n"
        "cli.build_parser('up').parse_args(['up'])\n"
        "tools = {m for _, m, _ in cli.TOOL_COMMANDS} | {'pandas', 'locust', 'matplotlib'}\n"
        "print(sorted(tools & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    # THEN none of the tools' modules (nor pandas, Locust, matplotlib) was imported
    assert out.stdout.strip() == "[]"
    # AND a tool's own --help is its full parser
    plan_help = subprocess.run([LABSQS, "plan", "--help"], capture_output=True, text=True, check=True)
    assert "--handler-time" in plan_help.stdout
