"""Embed a scorer in a service: load it once, score one applicant (a dict) per request, from many threads.

Steps: a small synthetic county -> household features -> fit the expert scorecard (household
template) and save it as a model file -> a tiny HTTP service (standard library only, on 127.0.0.1 and
an ephemeral port) loads the file **once** and answers ``POST /score`` with one JSON record each ->
many client threads (``ThreadPoolExecutor``) send every household concurrently -> every answer is
checked equal to the batch path (``ExpertScorecard.score`` on the whole frame) -> the service is shut
down. Resident ID numbers are masked in everything the service logs and returns
(``ruralcredit.ids.mask_resident_id``); the raw number only travels in the request.

Run::

    .venv/bin/python examples/embed_scorer_service.py --households 400 --threads 8

It ends by itself within seconds.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit.errors import ModelError
from ruralcredit.features import build_features
from ruralcredit.ids import mask_resident_id
from ruralcredit.models import ExpertScorecard, load, save
from ruralcredit.synth import make_county

log = logging.getLogger("scorer-service")

#: Fields of the answer compared with the batch path.
COMPARED = ("score", "grade", "vetoes", "reason_1", "reason_2", "reason_3", "reason_1_en", "missing")


class ScorerService:
    """A loaded scorer behind a lock-free call: ``score_record`` only reads the fitted scorecard.

    Parameters
    ----------
    model_file : path
        A model written by :func:`ruralcredit.models.save`; read once here.
    """

    def __init__(self, model_file: Path) -> None:
        self.scorer = load(model_file)  # once per process, never per request
        self.requests = 0
        self._count = threading.Lock()

    def score(self, request: dict[str, Any]) -> dict[str, Any]:
        """Score one applicant; the answer carries the masked ID number, never the raw one."""
        id_number = request.pop("head_id_number", None)
        result = self.scorer.score_record(request)
        result["head_id"] = mask_resident_id(id_number) if id_number else ""
        with self._count:
            self.requests += 1
        log.debug("scored %s (%s): %.1f %s", result["subject_id"], result["head_id"], result["score"],
                  result["grade"])
        # JSON has no NaN: a missing value (the expert scorecard's pd) is null
        return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in result.items()}


def make_handler(service: ScorerService) -> type[BaseHTTPRequestHandler]:
    """An HTTP handler class bound to ``service``: ``POST /score`` with one JSON record."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the http.server API names it
            if self.path != "/score":
                self._reply(404, {"error": "POST /score"})
                return
            try:
                record = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                self._reply(200, service.score(record))
            except (ValueError, ModelError) as exc:  # bad JSON or a record the scorer refuses
                self._reply(400, {"error": str(exc)})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # no per-request access lines
            pass

    return Handler


class Server(ThreadingHTTPServer):
    """One thread per connection; a backlog big enough for the client threads (no SYN retries)."""

    daemon_threads = True
    request_queue_size = 128


def to_records(features: pd.DataFrame, heads: pd.Series) -> list[dict[str, Any]]:
    """Feature rows as JSON-ready dicts (missing -> None), with the head's ID number attached."""
    plain = features.astype(object).where(features.notna(), None)
    records = plain.to_dict(orient="records")
    for rec, head in zip(records, heads.tolist(), strict=True):
        for k, v in rec.items():
            if isinstance(v, np.generic):  # numpy scalars -> Python (JSON)
                rec[k] = v.item()
        rec["head_id_number"] = head
    return records


def post(url: str, record: dict[str, Any]) -> tuple[dict[str, Any], float]:
    body = json.dumps(record, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=10) as resp:
        answer = json.loads(resp.read())
    return answer, time.perf_counter() - t0


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=400)
    ap.add_argument("--threads", type=int, default=8, help="concurrent client threads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verbose", action="store_true", help="log every request (ID numbers masked)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="  log %(threadName)s: %(message)s")
    log.setLevel(logging.DEBUG if args.verbose else logging.INFO)

    county = make_county(households=args.households, seed=args.seed, as_of="2026-06-30")
    features = build_features(county, "household", county.as_of)
    features["blacklisted"] = False  # from the blacklist registry in a real deployment; nobody here
    card = ExpertScorecard("household", as_of=county.as_of).fit(features)
    batch = card.score(features).set_index("subject_id")

    with tempfile.TemporaryDirectory() as tmp:
        model_file = save(card, Path(tmp) / "household.rcmodel.json")
        service = ScorerService(model_file)
    print(f"model loaded once from {model_file.name}: template {service.scorer.template_.id} "
          f"v{service.scorer.template_.version}")

    server = Server(("127.0.0.1", 0), make_handler(service))
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/score"
    print(f"service listening on {url}")

    heads = county.households.set_index("subject_id").loc[features["subject_id"], "head_id_number"]
    records = to_records(features, heads)
    try:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            answers = list(pool.map(lambda r: post(url, r), records))
        wall = time.perf_counter() - t0
        # a bad request gets a one-line error, not a traceback
        try:
            post(url, {"subject_id": "X", "blacklisted": "maybe"})
        except urllib.error.HTTPError as exc:
            print(f"bad record -> HTTP {exc.code}: {json.loads(exc.read())['error']}")
    finally:
        server.shutdown()
        server.server_close()

    mismatches = 0
    for (answer, _), rec in zip(answers, records, strict=True):
        expected = batch.loc[rec["subject_id"]]
        if not all(same(answer[k], expected[k] if not isinstance(expected[k], np.generic) else expected[k].item())
                   for k in COMPARED):
            mismatches += 1
        assert rec["head_id_number"] not in json.dumps(answer, ensure_ascii=False)  # never echoed raw
    latencies = sorted(t for _, t in answers)
    print(f"{len(answers)} requests from {args.threads} threads in {wall:.2f} s "
          f"({len(answers) / wall:,.0f}/s); latency p50 {statistics.median(latencies) * 1e3:.1f} ms, "
          f"max {latencies[-1] * 1e3:.1f} ms; service counted {service.requests}")
    print(f"equal to the batch path: {len(answers) - mismatches} of {len(answers)}")
    print("a few answers (ID numbers masked):")
    for answer, _ in answers[:3]:
        print(f"  {answer['subject_id']} {answer['head_id']}: score {answer['score']:.1f}, grade {answer['grade']}; "
              f"{answer['reason_1_en'] or '-'}")
    if mismatches:
        raise SystemExit(f"{mismatches} answers differ from the batch path")


if __name__ == "__main__":
    main()
