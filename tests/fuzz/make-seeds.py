#!/usr/bin/python3
"""Write the seed inputs of stream-offload-fuzz.c into the folder given:
well-formed frames of each kind the code handles, for the fuzzer to
mutate from.  Run once; its output is committed beside it."""

import os
import struct
import sys

MACS = bytes.fromhex("525400123456" "9a2b2c2d2e2f")


def ones(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def tcp(seq, payload, flags=0x10):
    return struct.pack("!HHIIBBHHH", 40000, 80, seq, 1, 5 << 4, flags,
                       512, 0, 0) + bytes((seq + i) * 7 & 0xff
                                          for i in range(payload))


def ip4(l4, proto=6):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0x1234, 0x4000,
                    64, proto, 0, bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]))
    h = h[:10] + struct.pack("!H", ~ones(h) & 0xffff) + h[12:]
    return h + l4


def ip6(l4, proto=6):
    src = bytes.fromhex("20010db8" + "00" * 11 + "01")
    dst = bytes.fromhex("20010db8" + "00" * 11 + "02")
    return struct.pack("!IHBB", 0x60000000, len(l4), proto, 64) + src + dst + l4


def eth(l3, v6=False, vlan=False):
    tag = struct.pack("!HH", 0x8100, 100) if vlan else b""
    return MACS + tag + struct.pack("!H", 0x86dd if v6 else 0x0800) + l3


def vnet(flags, gso_type, hdr_len, gso_size, csum_start, csum_offset):
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size,
                       csum_start, csum_offset)


def stream(frames, flush_last=True):
    out = b""
    for i, f in enumerate(frames):
        flush = flush_last and i == len(frames) - 1
        out += struct.pack("!I", len(f) | (0x01000000 if flush else 0)) + f
    return out


SEEDS = {
    "tx-tso4": b"\0" + vnet(1, 1, 54, 1448, 34, 16) +
               eth(ip4(tcp(1000, 5000))),
    # the smallest MSS taken, on a large segment: the bound's worst case
    "tx-tso4-mss88": b"\0" + vnet(1, 1, 54, 88, 34, 16) +
                     eth(ip4(tcp(1, 30000))),
    "tx-tso6-ecn": b"\0" + vnet(1, 0x84, 74, 1428, 54, 16) +
                   eth(ip6(tcp(1000, 4000, 0x90)), v6=True),
    "tx-tso4-vlan": b"\0" + vnet(1, 1, 58, 536, 38, 16) +
                    eth(ip4(tcp(7, 3000, 0x19)), vlan=True),
    "tx-csum-udp": b"\0" + vnet(1, 0, 0, 0, 34, 6) +
                   eth(ip4(struct.pack("!HHHH", 53, 5353, 108, 0) +
                           bytes(100), proto=17)),
    "tx-ufo": b"\0" + vnet(1, 3, 42, 1480, 34, 6) +
              eth(ip4(struct.pack("!HHHH", 53, 5353, 3008, 0) +
                      bytes(3000), proto=17)),
    "rx-tcp4": b"\x07" + stream([eth(ip4(tcp(1 + i * 1448, 1448)))
                                 for i in range(4)]),
    "rx-tcp6": b"\x07" + stream([eth(ip6(tcp(1 + i * 1428, 1428)), v6=True)
                                 for i in range(3)] +
                                [eth(ip6(tcp(1 + 3 * 1428, 100, 0x18)),
                                     v6=True)]),
}

for name, data in SEEDS.items():
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        f.write(data)
