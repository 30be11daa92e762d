"""The learners of bench/exam_burst.py: Locust users in a process of their own.

    python bench/exam_burst_learners.py CONFIG.json

Started by bench/exam_burst.py, which writes the configuration (the host, the quiz, one
session cookie and CSRF secret per learner, the pacing) and reads back what this writes
into the configuration's ``out`` folder: every request (``records.json``: kind, time,
milliseconds, status, outcome), every acknowledged save (``acks.json``) and submit
(``submits.json``). Locust's gevent patches the standard library, which is why this runs
apart from the bench; it is imported first, before anything opens a socket.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from exam_burst import answer_for
from locust import FastHttpUser, task
from locust.env import Environment
from locust.exception import StopUser


def load_generator(config_path: str) -> int:
    cfg = json.loads(Path(config_path).read_text())
    out = Path(cfg["out"])
    sessions = iter(cfg["sessions"])
    records: list[tuple[str, float, float, int, str]] = []  # kind, at, ms, status, outcome
    acks: list[dict[str, Any]] = []
    submits: list[int] = []
    started = [0]
    low, high = cfg["save_interval"]

    class Learner(FastHttpUser):
        host = cfg["host"]
        network_timeout = float(cfg["timeout"])
        connection_timeout = float(cfg["timeout"])

        def on_start(self) -> None:
            started[0] += 1
            session, csrf = next(sessions)
            self.rng = random.Random(session)
            self.common = {
                "Cookie": f"{cfg['session_cookie']}={session}; {cfg['csrf_cookie']}={csrf}",
                "X-CSRFToken": csrf,
            }

        def call(
            self, kind: str, method: str, path: str, *, expect: tuple[int, ...], body: Any = None
        ) -> Any:
            """One request, sent again after ``Retry-After`` while it is shed (429/503)."""
            headers = dict(self.common)
            data = None
            if body is not None:
                headers["Content-Type"] = "application/json"
                data = json.dumps(body)
            elif method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                data = ""
            headers["Accept"] = "application/json" if path.startswith("/api/") else "text/html"
            # As attempt.js does, a shed request is sent again until it is answered: here
            # for at most ``retry_seconds`` (then it counts as a failure, "gave-up").
            give_up = time.monotonic() + cfg["retry_seconds"]
            refused = 0
            while time.monotonic() < give_up:
                if refused:
                    headers["X-Shed-Retries"] = str(refused)  # as attempt.js sends it
                at = time.time()
                with self.client.request(
                    method,
                    path,
                    data=data,
                    headers=headers,
                    name=kind,
                    allow_redirects=False,
                    catch_response=True,
                ) as response:
                    ms = (time.time() - at) * 1000
                    status = response.status_code or 0
                    retry_after = response.headers.get("Retry-After") if status else None
                    if status in (429, 503) and retry_after:
                        records.append((kind, at, ms, status, "shed"))
                        response.success()
                        # attempt.js's busyWait: Retry-After, or 2, 4 … 60 s for each
                        # refusal in a row if longer, spread by up to half again.
                        refused += 1
                        wait = max(float(retry_after), min(2.0**refused, 60.0))
                        gevent.sleep(wait * (1 + self.rng.random() * 0.5))
                        continue
                    if status in expect:
                        records.append((kind, at, ms, status, "ok"))
                        response.success()
                        return response
                    records.append((kind, at, ms, status, "failed"))
                    response.failure(f"HTTP {status}")
                    return None
            records.append((kind, time.time(), 0.0, 0, "gave-up"))
            return None

        @task
        def exam(self) -> None:
            started_at = self.call(
                "start", "POST", f"/api/v1/quizzes/{cfg['slug']}/attempts", expect=(201,)
            )
            if started_at is None:
                raise StopUser()
            attempt = json.loads(started_at.content)
            attempt_id = attempt["id"]
            self.call("page", "GET", f"/attempts/{attempt_id}/", expect=(200,))
            items = attempt["items"]
            code = [i for i in items if i["type"] in ("code", "sql")]
            objective = [i for i in items if i not in code]
            plan = [self.rng.choice(objective) for _ in range(max(0, cfg["saves"] - 1))]
            plan += code[:1] or [self.rng.choice(objective)]
            revisions: dict[int, int] = {}
            for item in plan:
                gevent.sleep(self.rng.uniform(low, high))
                position = item["position"]
                revisions[position] = revisions.get(position, 0) + 1
                answer = answer_for(item, self.rng, cfg["references"])
                body = {"answer": answer, "revision": revisions[position]}
                saved = self.call(
                    "save",
                    "PUT",
                    f"/api/v1/attempts/{attempt_id}/answers/{position}",
                    expect=(200,),
                    body=body,
                )
                if saved is not None and json.loads(saved.content).get("saved"):
                    acks.append(
                        {
                            "attempt": attempt_id,
                            "position": position,
                            "revision": revisions[position],
                            "answer": answer,
                        }
                    )
            submitted = self.call("submit", "POST", f"/attempts/{attempt_id}/submit", expect=(302,))
            if submitted is not None:
                submits.append(attempt_id)
                self.call("result", "GET", f"/attempts/{attempt_id}/result", expect=(200,))
            raise StopUser()

    env = Environment(user_classes=[Learner])
    runner = env.create_local_runner()
    users = len(cfg["sessions"])
    runner.start(users, spawn_rate=max(1.0, users / max(cfg["spread"], 1)))
    deadline = time.monotonic() + cfg["max_seconds"]
    while time.monotonic() < deadline:
        gevent.sleep(1)
        if started[0] >= users and runner.user_count == 0:
            break
    timed_out = time.monotonic() >= deadline
    runner.quit()
    (out / "records.json").write_text(json.dumps(records))
    (out / "acks.json").write_text(json.dumps(acks))
    (out / "submits.json").write_text(json.dumps(submits))
    (out / "summary.json").write_text(json.dumps({"started": started[0], "timed_out": timed_out}))
    return 0


if __name__ == "__main__":
    sys.exit(load_generator(sys.argv[1]))
