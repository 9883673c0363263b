"""Receives like py-vault-multicast's listener: every JSON object is delivered, whatever its keys, and printed as
one JSON line ({"message": ..., "from": [host, port]}); then a summary line ({"summary": {...}}) with the
original's counters (`active_services` is its count of distinct addr values). Stops after N deliveries, or at
the deadline when --count is 0.
Usage: original_listener.py --group G --port P [--count N] [--seconds S]"""
import argparse
import json
import sys
import time

from original import Listener, listener_socket


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--group", default="224.1.1.1")
    p.add_argument("--port", type=int, default=5004)
    p.add_argument("--count", type=int, default=3)
    p.add_argument("--seconds", type=float, default=10.0)
    a = p.parse_args()
    delivered = []

    def on_message(message, addr):
        delivered.append(message)
        print(json.dumps({"message": message, "from": list(addr)}), flush=True)
        if a.count and len(delivered) >= a.count:
            listener.running = False

    listener = Listener(listener_socket(a.group, a.port, timeout=0.2), on_message)
    print(json.dumps({"ready": True}), flush=True)
    listener.run(deadline=time.monotonic() + a.seconds)
    summary = {"packets_received": listener.packets_received, "errors": listener.errors, "delivered": len(delivered)}
    if a.count == 0:
        summary["active_services"] = len(listener.services)
    print(json.dumps({"summary": summary}), flush=True)
    return 0 if len(delivered) >= max(a.count, 1) else 1


if __name__ == "__main__":
    sys.exit(main())
