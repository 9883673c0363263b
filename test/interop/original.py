"""The socket set-up and per-datagram work of py-vault-multicast 2.1.0, as /work/shared/docs/original.md
describes them, reproduced without the package (it is not installed here) for interop tests and the ingest
benchmark. Keep this file faithful to the original: it is the yardstick, not something to optimise."""
import json
import logging
import socket
import struct
import time

logger = logging.getLogger("vault_multicast")


def publisher_socket(ttl=2):
    """The original publisher's socket: only IP_MULTICAST_TTL is set (no interface, no loopback control)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
    return sock


def listener_socket(group="224.1.1.1", port=5004, timeout=2.0):
    """The original listener's socket: SO_REUSEADDR, bound to ('', port), joined on INADDR_ANY."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", port))
    mreq = struct.pack("4sl", socket.inet_aton(group), socket.INADDR_ANY)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    sock.settimeout(timeout)
    return sock


class Listener:
    """The original's receive loop and counters. `callback` stands for recv_signal.emit + the callback."""

    def __init__(self, sock, callback=None):
        self.sock = sock
        self.callback = callback
        self.packets_received = 0
        self.bytes_received = 0
        self.errors = 0
        self.services = set()
        self.running = True

    def run(self, max_packets=None, deadline=None):
        while self.running:
            if deadline is not None and time.monotonic() > deadline:
                return
            try:
                data, addr = self.sock.recvfrom(1400)
            except socket.timeout:
                continue
            self.packets_received += 1
            self.bytes_received += len(data)
            # f-strings are evaluated before the call, even when DEBUG is disabled (the default level is WARNING).
            logger.debug(f"Received {len(data)} bytes from {addr}")
            try:
                message = json.loads(data.decode("utf-8"))
                logger.debug(f"Received message: {message}")
                # A JSON-array addr becomes a list: unhashable, TypeError, counted as an error (its defect).
                self.services.add(message.get("addr"))
                if self.callback is not None:
                    self.callback(message, addr)
            except Exception as e:  # noqa: BLE001 - the original counts every failure the same way
                self.errors += 1
                logger.error(f"Error processing message: {e}")
            if max_packets is not None and self.packets_received >= max_packets:
                return
