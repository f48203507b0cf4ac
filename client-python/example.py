"""Synod from Python: an ephemeral node lives exactly as long as the session that created it.

Opens a session on the bidirectional Session stream, creates an ephemeral node through it,
watches the node with a Watch server stream, closes the session and waits for the
node-deleted event, then checks with a unary Exists that the node is gone.

Usage: example.py HOST:PORT [NODE_PATH] [--timeout SECONDS]
                  [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]

With --tls-ca it connects over TLS, trusting the CAs in that PEM bundle (the server's certificate
must name HOST); --tls-cert/--tls-key add a client certificate for servers that require one.

Exits 0 only if all of that happened, 1 if anything failed, 2 on bad usage; it never runs longer
than the timeout. Needs the stubs generated from synod.proto on the import path
(run-example.sh generates them into build/ and runs this file).
"""
import argparse
import os
import queue
import sys
import threading
import time

import grpc

from synod.v1 import synod_pb2 as pb
from synod.v1 import synod_pb2_grpc as pb_grpc

SESSION_TIMEOUT_MS = 10_000


class ExampleError(Exception):
    """Something the example expected did not happen."""


class Deadline:
    """One deadline for the whole run; every call gets the time that is left."""

    def __init__(self, seconds):
        self._end = time.monotonic() + seconds

    def left(self):
        left = self._end - time.monotonic()
        if left <= 0:
            raise ExampleError("ran out of time")
        return left


class SessionStream:
    """One Session stream: client messages go in through a queue, server messages come out in order."""

    def __init__(self, stub, deadline):
        self._outbox = queue.Queue()
        self.ended = False
        # The stream reads client messages from this iterator until it yields the sentinel None.
        self._call = stub.Session(iter(self._outbox.get, None), timeout=deadline.left())

    def send(self, **message):
        self._outbox.put(pb.ClientMessage(**message))

    def receive(self, kind):
        """The next server message, which must be of the given kind (opened, response, ended...)."""
        message = next(self._call, None)
        if message is not None and message.WhichOneof("kind") == "ended":
            self.ended = True
        if message is None:
            raise ExampleError(f"the session stream ended while waiting for '{kind}'")
        got = message.WhichOneof("kind")
        if got != kind:
            raise ExampleError(f"expected '{kind}' on the session stream, got '{got}': {message}")
        return getattr(message, kind)

    def call(self, request_no, what, **op):
        """Sends one request and returns its response; a failed request raises with its reason."""
        self.send(request=pb.Request(request_no=request_no, **op))
        response = self.receive("response")
        if response.request_no != request_no:
            raise ExampleError(f"response to request {response.request_no}, expected {request_no}")
        if response.HasField("error"):
            error = response.error
            raise ExampleError(f"{what} failed: {pb.ErrorReason.Name(error.reason)}: {error.message}")
        return response

    def finish(self):
        """Half-closes the stream: no more client messages."""
        self._outbox.put(None)


def next_event(watch, path):
    """The next event of the Watch stream, which must be about the given path."""
    event = next(watch, None)
    if event is None:
        raise ExampleError(f"the watch stream on {path} ended without an event")
    type_name = pb.EventType.Name(event.type)
    print(f"event {type_name} {event.path} (zxid {event.zxid})", flush=True)
    if event.type == pb.RESYNC_NEEDED:
        raise ExampleError("the server no longer holds the history this watch asked to replay")
    if event.path != path:
        raise ExampleError(f"event for {event.path}, expected {path}")
    return event


def open_channel(target, tls_ca, tls_cert, tls_key):
    """Plaintext, or TLS when given a CA bundle (and mutual TLS with a client certificate)."""
    if tls_ca is None:
        return grpc.insecure_channel(target)

    def read(name):
        if name is None:
            return None
        with open(name, "rb") as f:
            return f.read()

    credentials = grpc.ssl_channel_credentials(root_certificates=read(tls_ca), private_key=read(tls_key),
                                               certificate_chain=read(tls_cert))
    return grpc.secure_channel(target, credentials)


def run(target, path, deadline, tls_ca=None, tls_cert=None, tls_key=None):
    with open_channel(target, tls_ca, tls_cert, tls_key) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=deadline.left())
        except grpc.FutureTimeoutError:
            raise ExampleError(f"cannot reach a Synod server at {target}") from None
        stub = pb_grpc.SynodStub(channel)
        print(f"connected to {target}", flush=True)

        session = SessionStream(stub, deadline)
        session.send(open=pb.OpenSessionRequest(timeout_ms=SESSION_TIMEOUT_MS))
        opened = session.receive("opened")
        print(f"session opened: id={opened.session_id} timeout_ms={opened.timeout_ms}", flush=True)
        try:
            watch_until_gone(stub, session, path, deadline)
        finally:
            if not session.ended:
                # Best effort, so that a failed run does not leave its session to expire.
                session.finish()
                stub.CloseSession(pb.CloseSessionRequest(
                    session_id=opened.session_id, secret=opened.secret), timeout=2)

        exists = stub.Exists(pb.ExistsRequest(path=path), timeout=deadline.left())
        print(f"exists {path}: {str(exists.exists).lower()}", flush=True)
        if exists.exists:
            raise ExampleError(f"{path} still exists after its session closed")
        print("OK: the ephemeral node disappeared when its session closed", flush=True)


def watch_until_gone(stub, session, path, deadline):
    """Creates the ephemeral node, watches it, closes the session, waits for the deletion."""
    created = session.call(1, f"create {path}", create=pb.CreateRequest(
        path=path, data=b"hello from python", kind=pb.EPHEMERAL)).create
    print(f"created ephemeral {created.path} (zxid {created.stat.czxid}, "
          f"owner session {created.stat.ephemeral_owner})", flush=True)

    # Watching from the zxid just before the create replays the creation, then streams live:
    # no event can be missed, however long the watch takes to be registered.
    start_zxid = created.stat.czxid - 1
    watch = stub.Watch(pb.WatchRequest(path=path, kind=pb.WATCH_PERSISTENT, start_zxid=start_zxid),
                       timeout=deadline.left())
    print(f"watching {path} from zxid {start_zxid}", flush=True)
    try:
        if next_event(watch, path).type != pb.NODE_CREATED:
            raise ExampleError("the first event was not the creation")

        session.send(close=pb.CloseSessionRequest())
        ended = session.receive("ended")
        session.finish()
        print(f"session ended: {pb.SessionEnded.Reason.Name(ended.reason)} (zxid {ended.zxid})",
              flush=True)

        if next_event(watch, path).type != pb.NODE_DELETED:
            raise ExampleError("the event after the close was not the deletion")
    finally:
        watch.cancel()


def describe(error):
    """A gRPC failure as one line, with Synod's machine-readable reason when the server sent one."""
    text = f"{error.code().name}: {error.details()}"
    trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in trailers or ():
        if key == "synod-error-reason":
            text += f" (reason {value})"
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="the server, HOST:PORT")
    parser.add_argument("path", nargs="?", default=f"/synod-example-python-{os.getpid()}",
                        help="the ephemeral node to create (its parent must exist)")
    parser.add_argument("--timeout", type=float, default=20.0, help="give up after this many seconds")
    parser.add_argument("--tls-ca", help="connect over TLS, trusting the CAs in this PEM bundle")
    parser.add_argument("--tls-cert", help="client certificate (PEM), for servers that require one")
    parser.add_argument("--tls-key", help="the client certificate's private key (PEM)")
    args = parser.parse_args()
    if (args.tls_cert is None) != (args.tls_key is None) or (args.tls_cert and not args.tls_ca):
        parser.error("--tls-cert and --tls-key go together, and need --tls-ca")

    # The calls carry deadlines; this is the backstop that makes sure the process never hangs.
    watchdog = threading.Timer(args.timeout + 5, lambda: (
        print(f"FAIL: still running after {args.timeout + 5:.0f}s", file=sys.stderr, flush=True),
        os._exit(1)))
    watchdog.daemon = True
    watchdog.start()
    try:
        run(args.target, args.path, Deadline(args.timeout), args.tls_ca, args.tls_cert, args.tls_key)
        return 0
    except ExampleError as e:
        print(f"FAIL: {e}", file=sys.stderr)
    except OSError as e:
        print(f"FAIL: {e}", file=sys.stderr)
    except grpc.RpcError as e:
        print(f"FAIL: {describe(e)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
