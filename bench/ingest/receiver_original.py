"""A REPRODUCTION of py-vault-multicast 2.1.0's listener receive loop (the package is not installed here) as a
benchmark receiver, doing per datagram what the original does: the metrics lock taken twice (packet and byte
counts, then the seen-address set), both `logger.debug` calls with their f-strings evaluated (the default level
is WARNING, but Python builds the string before the call; the second renders the whole decoded dict),
`json.loads`, and the emit through a psygnal-like `Signal` (a lock around its slot list, one connected slot).
The socket set-up is test/interop/original.py's. The loop runs in a thread like the original's.
The real original, run from its own code with the real psygnal, was measured at 74-88k/s (11.5-15.8 us per
datagram) on a 2-core VM of this kind in 2026-12 (docs/performance.md); this reproduction should land near it.
stdin commands: `count` prints {"count": n, "errors": e, "cpu_us": u}, `quit` exits.
Usage: receiver_original.py --group G --port P [--rcvbuf BYTES]"""
import argparse
import json
import logging
import os
import resource
import socket
import sys
import threading
import weakref

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "interop"))
from original import listener_socket  # noqa: E402

logger = logging.getLogger("vault_multicast")


class _WeakSlot:
    """As psygnal holds a bound-method slot: weakly, called with as many arguments as it takes."""

    def __init__(self, method, max_args):
        self._ref = weakref.WeakMethod(method)
        self._max_args = max_args

    def cb(self, args):
        func = self._ref()
        if func is not None:
            func(*args[: self._max_args])


class Signal:
    """psygnal's SignalInstance, reduced to what one emit costs: the blocked/paused checks, a lock around
    the slot list, a weak reference resolved per slot and the arguments cut to the slot's arity."""

    def __init__(self):
        self._lock = threading.RLock()
        self._slots = []
        self._is_blocked = False
        self._is_paused = False
        self._args_queue = []

    def connect(self, method):
        max_args = method.__code__.co_argcount - 1  # bound method: minus self
        with self._lock:
            self._slots.append(_WeakSlot(method, max_args))

    def emit(self, *args):
        if self._is_blocked:
            return None
        if self._is_paused:
            self._args_queue.append(args)
            return None
        with self._lock:
            for caller in self._slots:
                caller.cb(args)
        return None


class OriginalListener:
    def __init__(self, sock):
        self.sock = sock
        self._metrics_lock = threading.Lock()
        self.packets_received = 0
        self.bytes_received = 0
        self.errors = 0
        self.services = set()
        self.recv_signal = Signal()
        # An application always connects something; a slot that keeps the last message is the cheapest.
        self.last = None
        self.recv_signal.connect(self._keep)
        self.running = True

    def _keep(self, message):
        self.last = message

    def run(self):
        while self.running:
            try:
                data, addr = self.sock.recvfrom(1400)
            except socket.timeout:
                continue
            with self._metrics_lock:
                self.packets_received += 1
                self.bytes_received += len(data)
            logger.debug(f"Received {len(data)} bytes from {addr}")
            try:
                message = json.loads(data.decode("utf-8"))
                logger.debug(f"Received message: {message}")
                with self._metrics_lock:
                    self.services.add(message.get("addr"))
                self.recv_signal.emit(message, addr)
            except Exception as e:  # noqa: BLE001 - the original counts every failure the same way
                with self._metrics_lock:
                    self.errors += 1
                logger.error(f"Error processing message: {e}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--group", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rcvbuf", type=int, default=0)
    a = p.parse_args()
    sock = listener_socket(a.group, a.port, timeout=2.0)
    if a.rcvbuf:
        # Not something the original does; the benchmark gives every receiver the same buffer so that it
        # compares per-datagram work, not buffer sizes.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    listener = OriginalListener(sock)
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    rcvbuf = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    print(json.dumps({"ready": True, "pid": os.getpid(), "rcvbuf": rcvbuf}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "count":
            u = resource.getrusage(resource.RUSAGE_SELF)
            cpu_us = int((u.ru_utime + u.ru_stime) * 1e6)
            print(json.dumps({"count": listener.packets_received, "errors": listener.errors, "cpu_us": cpu_us}), flush=True)
        elif cmd == "quit":
            break
    listener.running = False
    return 0


if __name__ == "__main__":
    sys.exit(main())
