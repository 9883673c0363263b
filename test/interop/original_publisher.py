"""Sends like py-vault-multicast's publisher: waits, then one datagram every `interval` seconds.
Usage: original_publisher.py --group G --port P --message JSON [--interval S] [--initial-delay S] [--count N]"""
import argparse
import sys
import time

from original import publisher_socket


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--group", default="224.1.1.1")
    p.add_argument("--port", type=int, default=5004)
    p.add_argument("--ttl", type=int, default=2)
    p.add_argument("--message", default="there is nothing to see")
    p.add_argument("--interval", type=float, default=2.0)
    p.add_argument("--initial-delay", type=float, default=5.0, help="the original waits 5 s before the first send")
    p.add_argument("--count", type=int, default=10)
    a = p.parse_args()
    sock = publisher_socket(a.ttl)
    time.sleep(a.initial_delay)
    for _ in range(a.count):
        sock.sendto(a.message.encode(), (a.group, a.port))
        print("sent", flush=True)
        time.sleep(a.interval)
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
