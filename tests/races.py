"""Concurrency helpers for the PostgreSQL race tests: calls started at the same instant, own clients.

Each thread works through its own test client; a request outside the test's app context gets
its own app context, hence its own session and connection.
"""

import threading

from .factories import DEFAULT_PASSWORD


def race(calls):
    """Run every call at the same moment, each in its own thread; their results, or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index):
        try:
            barrier.wait(timeout=30)
            results[index] = calls[index]()
        except Exception as exc:  # an escaping database error is a failure, reported by the caller
            results[index] = ("exception", repr(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request never finished (deadlock?)"
    return results


def logged_in(app, user, password=DEFAULT_PASSWORD):
    """A test client of its own, signed in as `user` through the login form."""
    client = app.test_client()
    assert client.post("/connexion", data={"email": user.email, "password": password}).status_code == 302
    return client
