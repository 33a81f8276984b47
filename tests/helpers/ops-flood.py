#!/usr/bin/env python3
"""ops-flood.py SOCKET N -- an ops client that stops reading during an
event flood must keep its connection (dom0-many.sh).

Two clients connect to hvsim's ops socket.  "slow" reads nothing while
"typist" sends RAW_INPUT to domains 1..N-1 (unprotected /bin/cat guests)
twice, so every guest echoes and hvsim raises OUTPUT events for all of
them, more than slow's socket holds.  Then slow reads its backlog: it must
find an SC_EV_LOST event (domid 0), and its next op must be answered.
Prints "events E lost L get_info STATUS"; exit 0 on success.
"""
import os
import re
import socket
import struct
import sys
import time

HDR = struct.Struct('<IHHiIIIII')  # magic version op status domid session arg len seq
MAGIC = 0x504f4353
OP_GET_INFO, OP_RAW_INPUT, OP_EVENT = 1, 9, 11
EV_LOST = 0x20


def ops_version():
    """SC_OPS_VERSION from lib/core/ops.h, so the ABI is written in one place."""
    h = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                     '..', '..', 'lib', 'core', 'ops.h')
    with open(h) as f:
        m = re.search(r'#define\s+SC_OPS_VERSION\s+(\d+)', f.read())
    if not m:
        sys.exit('no SC_OPS_VERSION in ' + h)
    return int(m.group(1))


VERSION = ops_version()


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    return s


def call(s, op, domid=0, payload=b'', seq=1):
    """One op; events that arrive before the response are skipped."""
    s.send(HDR.pack(MAGIC, VERSION, op, 0, domid, 0, 0, len(payload), seq) + payload)
    while True:
        p = s.recv(40000)
        if not p:
            sys.exit('the hv closed the connection')
        h = HDR.unpack(p[:HDR.size])
        if h[2] == op and h[8] == seq:
            return h


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    slow, typist = connect(path), connect(path)
    seq = 1
    for _ in range(2):
        for d in range(1, n):
            seq += 1
            call(typist, OP_RAW_INPUT, d, b'x\r', seq)
        time.sleep(0.5)
    slow.settimeout(2)
    events = lost = 0
    try:
        while True:
            p = slow.recv(40000)
            if not p:
                sys.exit('the slow client was disconnected')
            h = HDR.unpack(p[:HDR.size])
            if h[2] == OP_EVENT:
                events += 1
                if h[6] & EV_LOST and h[4] == 0:
                    lost += 1
    except socket.timeout:
        pass
    h = call(slow, OP_GET_INFO, seq=77)
    print('events %d lost %d get_info %d' % (events, lost, h[3]))
    return 0 if lost >= 1 and h[3] == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
