"""The ``labsqs`` command: start/stop the engine, open the lab, and run the lab's jobs.

Every subcommand is a thin layer over a library call; errors of the lab (:class:`LabSqsError`) are printed
as one line that says what to do next, with exit code 2, instead of a traceback.

The engine's subcommands (up, down, status, lab) live here. The tools' subcommands (:data:`TOOL_COMMANDS`)
are added by their own modules' ``register_cli``, and only the one that runs is imported: importing them
all (pandas, matplotlib, Locust, the conformance catalogue) cost ~1.4 s on every ``labsqs up``.
``labsqs --help`` lists them all from the table.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from labsqs import engine
from labsqs.errors import LabSqsError, QueueNotFound

if TYPE_CHECKING:
    from labsqs.base.depth import Depth

Handler = Callable[[argparse.Namespace], int]
Register = Callable[[argparse._SubParsersAction, dict[str, Handler]], None]
_COMMANDS: dict[str, Handler] = {}

# The tools' subcommands: (name, module whose ``register_cli`` adds it, the help line `labsqs --help` shows
# without importing the module; tests/test_lab_command.py checks each line against its module's own)
TOOL_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("bench", "labsqs.load.command",
     "Locust load tests: FIFO vs standard throughput, visibility timeout; writes a report"),
    ("plan", "labsqs.plan",
     "capacity and cost plan: consumers, FIFO mode, visibility timeout, maxReceiveCount, $/month"),
    ("demo", "labsqs.demo", "the seeds' two pipelines, end to end (jobs, resumes)"),
    ("conformance", "labsqs.conformance",
     "run behavioural checks: where an SQS engine behaves like SQS (exit 1 if a check errored)"),
    ("dlq", "labsqs.dlq", "dead-letter queues: inspect, redrive, purge"),
)  # fmt: skip


def _engine_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=engine.ENGINES, help="default: LABSQS_ENGINE or localstack")
    p.add_argument("--port", type=int, help="default: LABSQS_PORT or 4566")


def cmd_up(args: argparse.Namespace) -> int:
    state = engine.up(args.engine, port=args.port)
    if state.engine == "moto":
        print(f"warning: {engine.MOTO_WARNING}", file=sys.stderr)
    print(f"endpoint {state.endpoint or 'AWS'}  (engine {state.description}, pid {state.pid})")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    engine.down(port=args.port)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """The engine's status, then every queue at its endpoint with its depth."""
    st = engine.status(port=args.port, endpoint=args.endpoint)
    depths = _queue_depths(st.endpoint) if st.answering else {}
    lines = [st.render(), f"queues    {len(depths)}"]
    if depths:
        width = max(map(len, depths))
        lines.append(f"  {'name'.ljust(width)}  visible  in-flight  delayed")
        for name, d in sorted(depths.items()):
            lines.append(f"  {name.ljust(width)}  {d.visible:7d}  {d.in_flight:9d}  {d.delayed:7d}")
    print("\n".join(lines))
    return 0 if st.answering else 1


def _queue_depths(endpoint: str | None) -> dict[str, Depth]:
    """Every queue's depth by name (a queue deleted while it is read is left out)."""
    from labsqs.base.depth import read_depth
    from labsqs.client import sqs_client

    sqs = sqs_client(endpoint)
    depths = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        with contextlib.suppress(QueueNotFound):
            depths[url.rsplit("/", 1)[-1]] = read_depth(sqs, url)
    return depths


NBGRADER_SERVER_EXTENSIONS = ("formgrader", "validate_assignment", "assignment_list", "course_list")


def _quiet_nbgrader(config_dir: Path) -> Path:
    """nbgrader only builds the learner notebooks (labsqs.lessons); keep its course menus out of the lab."""
    (config_dir / "labconfig").mkdir(parents=True, exist_ok=True)
    off = {f"nbgrader.server_extensions.{name}": False for name in NBGRADER_SERVER_EXTENSIONS}
    server = {"ServerApp": {"jpserver_extensions": off}}
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(server))
    (config_dir / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyter/nbgrader": True}}))
    return config_dir


def cmd_lab(args: argparse.Namespace) -> int:
    """Start the engine and JupyterLab on loopback; Ctrl-C stops both."""
    state = engine.up(args.engine, port=args.port)
    notebooks = Path(args.notebooks).resolve()
    env = dict(os.environ, LABSQS_ENDPOINT=state.endpoint or "")
    if state.endpoint is None:
        env.pop("LABSQS_ENDPOINT")
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--ip={engine.DEFAULT_HOST}",
        f"--port={args.jupyter_port}", f"--ServerApp.root_dir={notebooks}",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI machines often run as root
    env.setdefault("JUPYTER_RUNTIME_DIR", str(engine.lab_home() / "jupyter-runtime"))
    config = str(_quiet_nbgrader(engine.lab_home() / "jupyter-config"))
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(x for x in (config, env.get("JUPYTER_CONFIG_PATH")) if x)
    print(f"starting JupyterLab on {engine.DEFAULT_HOST}:{args.jupyter_port} with {notebooks} open")
    print("its URL with the token follows; Ctrl-C stops JupyterLab and the engine")
    jupyter = subprocess.Popen(cmd, env=env, start_new_session=True)
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):  # a closed terminal or `kill` stops both too
        signal.signal(stop_signal, _interrupt)
    try:
        return jupyter.wait()
    except KeyboardInterrupt:
        print("\nstopping JupyterLab and the engine ...")
        return 0
    finally:
        if jupyter.poll() is None:
            os.killpg(jupyter.pid, signal.SIGTERM)
            try:
                jupyter.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(jupyter.pid, signal.SIGKILL)
        if state.reused:
            print(f"the {state.engine} engine ran before `labsqs lab`: left running (`labsqs down` stops it)")
        else:
            engine.down(port=state.port)


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def build_parser(tool: str | None = None) -> argparse.ArgumentParser:
    """The ``labsqs`` parser. Of the tools' subcommands only ``tool``'s is complete (its module imported);
    the others are one help line each, enough for ``labsqs --help``."""
    parser = argparse.ArgumentParser(prog="labsqs", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("up", help="start the lab's SQS engine (reuses a running one)")
    _engine_args(p)
    _COMMANDS["up"] = cmd_up

    p = sub.add_parser("down", help="stop the engine `labsqs up` started")
    p.add_argument("--port", type=int)
    _COMMANDS["down"] = cmd_down

    p = sub.add_parser("status", help="engine, endpoint, version, uptime, queues and depth")
    p.add_argument("--port", type=int)
    p.add_argument("--endpoint", help="any SQS endpoint instead of the lab's engine")
    _COMMANDS["status"] = cmd_status

    p = sub.add_parser("lab", help="start the engine and JupyterLab (Ctrl-C stops both)")
    _engine_args(p)
    p.add_argument("--jupyter-port", type=int, default=8888)
    p.add_argument("--notebooks", default=str(Path(__file__).resolve().parent.parent / "notebooks"))
    _COMMANDS["lab"] = cmd_lab

    for name, module, help_line in TOOL_COMMANDS:
        if name == tool:
            _register(module)(sub, _COMMANDS)
        else:
            sub.add_parser(name, help=help_line)
    return parser


def _register(module: str) -> Register:
    """The ``register_cli`` of a tool's module (imported now)."""
    register: Register = importlib.import_module(module).register_cli
    return register


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)  # `labsqs` has no options of its own
    args = build_parser(chosen).parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except LabSqsError as exc:
        print(f"labsqs: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
