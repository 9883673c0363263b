"""Counts the IPv4 UDP packets seen on an interface (both directions) for a while, by source address, with a
packet socket. Prints one JSON object {source: count}. Usage: sniff_udp.py IFACE SECONDS"""
import json
import socket
import sys
import time

ETH_P_IP = 0x0800


def main():
    iface, seconds = sys.argv[1], float(sys.argv[2])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    s.bind((iface, 0))
    s.settimeout(0.2)
    counts = {}
    print(json.dumps({"ready": True}), flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            frame = s.recv(2048)
        except socket.timeout:
            continue
        ip = frame[14:]
        if len(ip) < 20 or ip[9] != 17:
            continue
        src = socket.inet_ntoa(ip[12:16])
        counts[src] = counts.get(src, 0) + 1
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
