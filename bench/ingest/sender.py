"""Paced multicast sender for the ingest benchmark: sends `--count` announcements at `--rate` per second to
a group via 127.0.0.1. It uses UDP segmentation offload (UDP_SEGMENT): one send() carries up to 64
equal-sized announcements that the kernel splits into separate datagrams, so the sender is not the
bottleneck of the receivers it measures (a plain sendto() loop tops out near 130k/s on a small VM).
Receivers see ordinary, separate datagrams. Prints one JSON line: sent, seconds, rate.
Usage: sender.py --group G --port P --rate R --count N [--services K]"""
import argparse
import json
import socket
import sys
import time

SOL_UDP = 17
UDP_SEGMENT = 103
BATCH = 64


def payloads(services, seq=False):
    """Announcements shaped as the original's users send them (~160 bytes), from `services` distinct
    services, all of one length (segmentation offload cuts a buffer into equal pieces). With `seq`, 32 rounds
    of them carrying a sequence number, as this library's publisher sends: no two datagrams in a row alike."""
    out = []
    for n in range(services * 32 if seq else services):
        i = n % services
        msg = {
            "type": "vault",
            "name": f"node-{i:04d}",
            "addr": f"198.18.7.7:{10000 + i}",
            "version": "1.15.2",
            "timestamp": 1795600000.25 + i,
            "cluster": "bench",
        }
        if seq:
            msg["seq"] = 100000 + n // services
        out.append(json.dumps(msg).encode())
    assert len({len(p) for p in out}) == 1, "payloads must be of equal length"
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--group", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--services", type=int, default=128)
    p.add_argument("--max-seconds", type=float, default=30.0)
    p.add_argument("--seq", action="store_true", help="announcements carry a changing seq")
    a = p.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
    msgs = payloads(max(BATCH, a.services), a.seq)
    seg = len(msgs[0])
    try:
        sock.setsockopt(SOL_UDP, UDP_SEGMENT, seg)
        batch = BATCH
    except OSError:
        batch = 1  # no segmentation offload: one datagram per send
    ring = b"".join(msgs)
    k = len(msgs)
    dest = (a.group, a.port)

    sent = 0
    slot = 0
    start = time.monotonic()
    deadline = start + a.max_seconds
    while sent < a.count:
        now = time.monotonic()
        if now > deadline:
            break
        due = min(int((now - start) * a.rate), a.count) - sent
        if due <= 0:
            time.sleep(0.0001)
            continue
        n = min(due, batch, k - slot)
        try:
            sock.sendto(ring[slot * seg : (slot + n) * seg], dest)
        except (BlockingIOError, InterruptedError):
            time.sleep(0.0001)
            continue
        except OSError as e:
            if e.errno == 105:  # ENOBUFS: the local queue is full for a moment
                time.sleep(0.0001)
                continue
            raise
        sent += n
        slot = (slot + n) % k
    elapsed = time.monotonic() - start
    print(json.dumps({"sent": sent, "seconds": elapsed, "rate": sent / elapsed if elapsed > 0 else 0}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
