#!/usr/bin/env python3
# ks-owner-client.py — an independent tenant client of the key server's
# ownership-token endpoint (PROTOCOL.md §12.10), on Python's hashlib and
# the cryptography package only, for tests/integration/ks-owner.sh.  It
# builds request bodies; the shell posts them with curl.
#
#   keypair SKFILE               new X25519 key: secret (hex) into SKFILE,
#                                public (hex) on stdout
#   pub SKFILE                   the public key (hex)
#   b64 HEX                      "sccrypt-x25519 BASE64" of a public key
#   answer SKFILE CHALLENGE.json UUID ACL [PROOF-UUID [PROOF-ACL]]
#                                the answer body; the proof is computed over
#                                PROOF-UUID / PROOF-ACL when given (tampering)
#   verify CAHEX UUID ACL TOKEN.json   exit 0 iff the token is the owner CA's
#                                Ed25519 signature for UUID and ACL
# ACL: comma-separated HEXKEY:o (owner) or HEXKEY:u (user).
import base64, hashlib, json, os, sys, uuid as uuidmod
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives import serialization

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def acl_parse(s):
    out = []
    for e in s.split(','):
        k, f = e.split(':')
        out.append((bytes.fromhex(k), 1 if f == 'o' else 0))
    return out


def acl_digest(acl):
    h = hashlib.blake2b(digest_size=32)
    h.update(b"SCCrypt ownership acl v1" + bytes([len(acl)]))
    for k, f in sorted(acl):
        h.update(k + bytes([f]))
    return h.digest()


def pub(sk):
    return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes(*RAW)


def proof(sk, eph_pk, nonce, uuid, acl):
    dh = X25519PrivateKey.from_private_bytes(sk).exchange(
        X25519PublicKey.from_public_bytes(eph_pk))
    return hashlib.blake2b(b"SCCrypt owner proof v1" + nonce + eph_pk +
                           pub(sk) + uuid + acl_digest(acl),
                           key=dh, digest_size=32).digest()


cmd = sys.argv[1]
if cmd == 'keypair':
    sk = os.urandom(32)
    open(sys.argv[2], 'w').write(sk.hex() + '\n')
    print(pub(sk).hex())
elif cmd == 'pub':
    print(pub(bytes.fromhex(open(sys.argv[2]).read().strip())).hex())
elif cmd == 'b64':
    print('sccrypt-x25519 ' + base64.b64encode(bytes.fromhex(sys.argv[2])).decode())
elif cmd == 'answer':
    sk = bytes.fromhex(open(sys.argv[2]).read().strip())
    ch = json.load(open(sys.argv[3]))
    u, acl = sys.argv[4], sys.argv[5]
    pu = sys.argv[6] if len(sys.argv) > 6 else u
    pacl = sys.argv[7] if len(sys.argv) > 7 else acl
    p = proof(sk, bytes.fromhex(ch['server_key']), bytes.fromhex(ch['nonce']),
              uuidmod.UUID(pu).bytes, acl_parse(pacl))
    print(json.dumps({'uuid': u, 'nonce': ch['nonce'], 'proof': p.hex(),
                      'acl': [{'key': k.hex(), 'owner': f == 1}
                              for k, f in acl_parse(acl)]}))
elif cmd == 'verify':
    ca = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sys.argv[2]))
    u = uuidmod.UUID(sys.argv[3]).bytes
    tok = bytes.fromhex(json.load(open(sys.argv[5]))['token'])
    ca.verify(tok, b"SCCrypt ownership v1" + u + acl_digest(acl_parse(sys.argv[4])))
else:
    sys.exit('unknown command')
