"""A DNS A-record lookup over UDP, to ask the cluster's DNS from the host (no dig needed)."""

import secrets
import socket
import struct


def query(name: str, ident: int) -> bytes:
    header = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0)  # recursion desired, 1 question
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
    return header + labels + b"\x00" + struct.pack("!HH", 1, 1)  # A, IN


def _skip_name(message: bytes, offset: int) -> int:
    while True:
        length = message[offset]
        if length & 0xC0 == 0xC0:  # compression pointer: two bytes, end of name
            return offset + 2
        if length == 0:
            return offset + 1
        offset += 1 + length


def answers(message: bytes, ident: int) -> tuple[int, list[str]]:
    """(rcode, A records) of a response to the query with this id."""
    got_id, flags, questions, count = struct.unpack("!HHHH", message[:8])
    if got_id != ident:
        raise ValueError("response to another query")
    offset = 12
    for _ in range(questions):
        offset = _skip_name(message, offset) + 4
    found = []
    for _ in range(count):
        offset = _skip_name(message, offset)
        rtype, _class, _ttl, length = struct.unpack("!HHIH", message[offset : offset + 10])
        offset += 10
        if rtype == 1 and length == 4:
            found.append(socket.inet_ntoa(message[offset : offset + 4]))
        offset += length
    return flags & 0x000F, found


def resolve(server: str, name: str, port: int = 53, timeout_s: float = 2.0) -> list[str]:
    """A records of `name` from `server`; [] if it does not answer or knows no such name."""
    ident = secrets.randbelow(0xFFFF)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.sendto(query(name, ident), (server, port))
            message, _ = sock.recvfrom(4096)
            rcode, found = answers(message, ident)
        except (OSError, ValueError, struct.error, IndexError):
            return []
    return found if rcode == 0 else []
