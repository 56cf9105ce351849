#!/usr/bin/env python3
"""moto's server, answering one request at a time.

DynamoDB applies a conditional write atomically per item; the offset store's lease
(`acquire`: "no holder or expired", `commit`: "still my epoch") relies on it. moto's own
`moto_server` runs werkzeug threaded and evaluates a condition and applies the update
without a lock, so two pollers racing for the lease can both win it there, which real
DynamoDB never allows. A lock around each request gives moto that guarantee (and more:
requests are serialised, which costs the tests nothing measurable).

    moto_server.py -H 127.0.0.1 -p 15000
"""
import argparse
import os
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-H", "--host", default="127.0.0.1")
    ap.add_argument("-p", "--port", type=int, default=5000)
    args = ap.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            # The whole body inside the lock: a lazy iterable would run the
            # backend after the lock is released.
            body = app(environ, start_response)
            try:
                return list(body)
            finally:
                if hasattr(body, "close"):
                    body.close()

    run_simple(args.host, args.port, one_at_a_time, threaded=True)


if __name__ == "__main__":
    main()
