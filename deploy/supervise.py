"""`make run`'s processes (web, worker, beat) under supervisord, which restarts any that dies.

    .venv/bin/python deploy/supervise.py               # serve on $HOST:$PORT (127.0.0.1:8000)
    .venv/bin/python deploy/supervise.py ctl status    # ask the running supervisord

Writes ``supervisord.conf`` into ``$VAR_DIR/supervisor/`` (or ``--dir``) and replaces
itself with ``supervisord`` in the foreground, so Ctrl-C reaches supervisord, which stops
all three (each in its own process group, pool and reloader children included) and exits.
A worker or beat that crashes, or is killed, is started again while the web server keeps
serving; the old process manager stopped everything when one process exited.

Processes inherit this environment (DEBUG, DATABASE_URL, REDIS_URL…). On the embedded
broker (no REDIS_URL), the worker runs without mingle and gossip, which need broadcasts.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtualenv this script runs in


def worker_command() -> list[str]:
    command = [
        str(BIN / "celery"), "-A", "config", "worker", "-Q", "default,grading",
        "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2"), "--loglevel", "INFO",
    ]  # fmt: skip
    if not os.environ.get("REDIS_URL"):
        command += ["--without-mingle", "--without-gossip"]
    return command


def programs(host: str, port: str) -> dict[str, list[str]]:
    return {
        "web": [str(BIN / "python"), "manage.py", "runserver", f"{host}:{port}"],
        "worker": worker_command(),
        "beat": [str(BIN / "celery"), "-A", "config", "beat", "--loglevel", "INFO"],
    }


# How each is stopped. runserver's reloader leaves its child behind on TERM, so the whole
# group gets it; the worker's main process gets TERM alone and lets its running tasks
# finish (a warm shutdown), and only a worker still there after 30 s is killed, pool and all.
STOP = {
    "web": ["stopasgroup=true", "killasgroup=true", "stopwaitsecs=10"],
    "worker": ["stopasgroup=false", "killasgroup=true", "stopwaitsecs=30"],
    "beat": ["stopasgroup=true", "killasgroup=true", "stopwaitsecs=10"],
}


def quote(value: str) -> str:
    """A value for supervisord's config, where % starts an expansion."""
    return value.replace("%", "%%")


def config_text(folder: Path, host: str, port: str) -> str:
    lines = [
        "; Written by deploy/supervise.py on every start; edit that script, not this file.",
        "[supervisord]",
        "nodaemon=true",
        f"logfile={quote(str(folder / 'supervisord.log'))}",
        f"pidfile={quote(str(folder / 'supervisord.pid'))}",
        f"childlogdir={quote(str(folder))}",
        "",
        "[unix_http_server]",
        f"file={quote(str(folder / 'supervisor.sock'))}",
        "chmod=0700",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{quote(str(folder / 'supervisor.sock'))}",
    ]
    for name, command in programs(host, port).items():
        lines += [
            "",
            f"[program:{name}]",
            f"command={quote(shlex.join(command))}",
            f"directory={quote(str(BASE_DIR))}",
            "autostart=true",
            # Restarted whenever it exits, whatever the exit code: Celery exits with 0
            # after an unrecoverable error.
            "autorestart=true",
            "startsecs=1",
            "startretries=10",
            *STOP[name],
            "redirect_stderr=true",
            "stdout_logfile=/dev/stdout",
            "stdout_logfile_maxbytes=0",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dir", type=Path, help="where to write the config (default under VAR_DIR)"
    )
    parser.add_argument("ctl", nargs="*", help="'ctl ARGS…' runs supervisorctl ARGS on this group")
    args = parser.parse_args()
    var_dir = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var")
    folder = (args.dir or var_dir / "supervisor").resolve()
    config = folder / "supervisord.conf"
    if args.ctl:
        if args.ctl[0] != "ctl":
            parser.error("the only command is 'ctl'")
        supervisorctl = str(BIN / "supervisorctl")
        os.execv(supervisorctl, [supervisorctl, "-c", str(config), *args.ctl[1:]])  # noqa: S606
    folder.mkdir(parents=True, exist_ok=True)
    host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
    config.write_text(config_text(folder, host, port))
    supervisord = str(BIN / "supervisord")
    sys.stdout.flush()
    # Replaced, not a child: Ctrl-C and the exit status are supervisord's own.
    os.execv(supervisord, [supervisord, "-c", str(config)])  # noqa: S606


if __name__ == "__main__":
    main()
