"""The ``labsqs`` command: start/stop the engine, open the lab, and run the lab's jobs.

Every subcommand is a thin layer over a library call; errors of the lab (:class:`LabSqsError`) are printed
as one line that says what to do next, with exit code 2, instead of a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from labsqs import engine
from labsqs.errors import LabSqsError

Handler = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, Handler] = {}


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
    st = engine.status(port=args.port, endpoint=args.endpoint)
    print(st.render())
    return 0 if st.answering else 1


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


def build_parser() -> argparse.ArgumentParser:
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

    for register in _extensions():
        register(sub, _COMMANDS)
    return parser


def _extensions() -> list[Callable[[argparse._SubParsersAction, dict[str, Handler]], None]]:
    """Subcommands owned by other modules (bench, demo, conformance), each a ``register`` function."""
    import importlib

    found = []
    for name in ("labsqs.load.command", "labsqs.plan", "labsqs.demo", "labsqs.conformance", "labsqs.dlq"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        register = getattr(module, "register_cli", None)
        if register is not None:
            found.append(register)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except LabSqsError as exc:
        print(f"labsqs: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
