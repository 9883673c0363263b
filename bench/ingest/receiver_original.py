"""The original listener's receive loop (test/interop/original.py) as a benchmark receiver. The loop runs in
a thread like the original's; stdin commands: `count` prints {"count": n}, `quit` exits.
Usage: receiver_original.py --group G --port P [--rcvbuf BYTES]"""
import argparse
import json
import os
import resource
import socket
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "interop"))
from original import Listener, listener_socket  # noqa: E402


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
    listener = Listener(sock)
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
