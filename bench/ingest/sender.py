"""Paced multicast sender for the ingest benchmark: sends `--count` announcements at `--rate` per second to
a group on 127.0.0.1, in batches of 64 through libc's sendmmsg (via ctypes, one system call per batch), so
the sender is not the bottleneck of the receivers it measures. Prints one JSON line: sent, seconds, rate.
Usage: sender.py --group G --port P --rate R --count N [--services K]"""
import argparse
import ctypes
import json
import socket
import sys
import time

BATCH = 64


class iovec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class msghdr(ctypes.Structure):
    _fields_ = [
        ("msg_name", ctypes.c_void_p),
        ("msg_namelen", ctypes.c_uint32),
        ("msg_iov", ctypes.POINTER(iovec)),
        ("msg_iovlen", ctypes.c_size_t),
        ("msg_control", ctypes.c_void_p),
        ("msg_controllen", ctypes.c_size_t),
        ("msg_flags", ctypes.c_int),
    ]


class mmsghdr(ctypes.Structure):
    _fields_ = [("msg_hdr", msghdr), ("msg_len", ctypes.c_uint)]


def payloads(services):
    """Announcements as the original's users send them (~150 bytes), from `services` distinct services."""
    out = []
    for i in range(services):
        msg = {
            "type": "vault",
            "name": f"node-{i:04d}",
            "addr": f"198.18.{i // 250}.{i % 250 + 1}:8200",
            "version": "1.15.2",
            "timestamp": 1795600000.0 + i,
            "cluster": "bench",
        }
        out.append(json.dumps(msg).encode())
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--group", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--services", type=int, default=128)
    p.add_argument("--max-seconds", type=float, default=30.0)
    a = p.parse_args()

    libc = ctypes.CDLL(None, use_errno=True)
    sendmmsg = libc.sendmmsg
    sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
    sendmmsg.restype = ctypes.c_int

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
    sock.connect((a.group, a.port))
    fd = sock.fileno()

    # A ring of K messages (K a multiple of the batch) so a batch is a contiguous slice of it.
    k = max(BATCH, (a.services + BATCH - 1) // BATCH * BATCH)
    bufs = [ctypes.create_string_buffer(b, len(b)) for b in payloads(a.services)]
    iovs = (iovec * k)()
    msgs = (mmsghdr * k)()
    for i in range(k):
        b = bufs[i % len(bufs)]
        iovs[i].iov_base = ctypes.cast(b, ctypes.c_void_p)
        iovs[i].iov_len = len(b)
        msgs[i].msg_hdr.msg_iov = ctypes.pointer(iovs[i])
        msgs[i].msg_hdr.msg_iovlen = 1
    base = ctypes.addressof(msgs)
    size = ctypes.sizeof(mmsghdr)

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
        n = min(due, BATCH, k - slot)
        r = sendmmsg(fd, base + slot * size, n, 0)
        if r < 0:
            err = ctypes.get_errno()
            if err in (11, 105):  # EAGAIN, ENOBUFS: the local queue is full; try again
                time.sleep(0.0001)
                continue
            print(json.dumps({"error": err}), flush=True)
            return 1
        sent += r
        slot = (slot + r) % k
    elapsed = time.monotonic() - start
    print(json.dumps({"sent": sent, "seconds": elapsed, "rate": sent / elapsed if elapsed > 0 else 0}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
