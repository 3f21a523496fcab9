"""moto_server with one request at a time.

DynamoDB applies a conditional write atomically; moto_server's threaded server checks the
condition and writes without a lock, so two concurrent writes can both pass one condition (seen
under CPU pressure: two tasks each took the same domain's lock). The tests need DynamoDB's rule,
so every request runs under one lock. Connections are still accepted concurrently.
"""

import signal
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

host, port = sys.argv[1], int(sys.argv[2])
inner = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def app(environ, start_response):
    with lock:
        # The whole answer is produced under the lock.
        return list(inner(environ, start_response))


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
run_simple(host, port, app, threaded=True)
