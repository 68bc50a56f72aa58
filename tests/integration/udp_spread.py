"""Datagrams from many distinct source addresses, from one unprivileged-looking
socket: each sendmsg names its own IPv4 source with IP_PKTINFO. The sources
must be local addresses, so the caller runs this inside a network namespace it
made, where `ip route add local 10.0.0.0/8 dev lo` turns the whole block into
the namespace's own (AnyIP). Nothing here leaves that namespace.

    python3 udp_spread.py PORT COUNT [FIRST_INDEX] [RATE]

RATE (datagrams per second, default unlimited) paces the sending in batches of
a thousand, so a receiver that keeps up sees every source.

Source number i (counting from FIRST_INDEX) is 10.x.y.z with x.y.z the 24 bits
of i, so COUNT must stay under 2^24. Prints how many datagrams the kernel took.
"""

import socket
import struct
import sys
import time


# Linux's value; Python's socket module does not export it.
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)


def source_address(index):
    return struct.pack("!I", (10 << 24) | index)


def main():
    port = int(sys.argv[1])
    count = int(sys.argv[2])
    first = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rate = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    payload = b"x"
    if first < 1 or first + count >= 1 << 24:
        sys.exit("udp_spread: sources must lie within 10.0.0.1-10.255.255.254")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    destination = ("127.0.0.1", port)
    sent = 0
    started = time.monotonic()
    for index in range(first, first + count):
        if rate > 0 and (index - first) % 1000 == 0:
            ahead = started + (index - first) / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        # struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }
        pktinfo = struct.pack("=i4s4s", 0, source_address(index), b"\0\0\0\0")
        try:
            sock.sendmsg([payload], [(socket.IPPROTO_IP, IP_PKTINFO, pktinfo)], 0, destination)
            sent += 1
        except (BlockingIOError, ConnectionRefusedError):
            pass
    print(sent)


if __name__ == "__main__":
    main()
