// keys.js — the user's files in the page (PROTOCOL.md §11): secret key
// files (armor + SCKF blob, Argon2id + XChaCha20-Poly1305), VM files,
// public key lines, fingerprints, VMM certificates.  Crypto from @noble
// only (Argon2id and BLAKE2b from @noble/hashes, XChaCha20-Poly1305 from
// @noble/ciphers, Ed25519 from @noble/curves).
//
// Contract: readKeyFile(text, kind, passphrase) -> secret bytes (the caller
// wipes them); decodeVmFile(secret) -> {uuid, secret, diskKeyLen, name};
// verifyCert(bytes, ksPub, {host, hvPub, now}) -> cert or throws the
// SC_ERR_* of §11.7 in the order given there.
import { argon2id } from '@noble/hashes/argon2';
import { blake2b } from '@noble/hashes/blake2b';
import { xchacha20poly1305 } from '@noble/ciphers/chacha';
import { ed25519 } from '@noble/curves/ed25519';
import { Reader, b64decode, b64encode, concat, ctEqual, enc, wipe } from './bytes.js';
import { E, ScError, fail } from './errors.js';

export const KIND = Object.freeze({ USER: 1, VM: 2, SIGNING: 3 });
const ARMOR_BEGIN = '-----BEGIN SCCRYPT SECRET KEY-----';
const ARMOR_END = '-----END SCCRYPT SECRET KEY-----';
export const KEYFILE_MAX = 16384;
export const KDF_MIN_OPS = 2, KDF_MIN_MEM_KIB = 65536;	// §11.2.2 Reading
const KDF_MAX_OPS = 32, KDF_MAX_MEM_KIB = 1048576;

function unarmor(text) {
	if (text.length > KEYFILE_MAX) fail(E.TOOLONG, 'key file');
	if (/\r/.test(text)) fail(E.FORMAT, 'CR in key file');
	const lines = text.replace(/\n$/, '').split('\n');
	if (lines.length < 3 || lines[0] !== ARMOR_BEGIN || lines[lines.length - 1] !== ARMOR_END)
		fail(E.FORMAT, 'not an SCCrypt secret key file');
	const body = lines.slice(1, -1);
	for (const l of body) if (l.length < 1 || l.length > 76) fail(E.FORMAT, 'armor line length');
	return b64decode(body.join(''));
}

// Parse the blob; returns its fields and the AD.
function parseBlob(blob, kind) {
	const r = new Reader(blob);
	if (!ctEqual(r.bytes(4), enc.encode('SCKF'))) fail(E.FORMAT, 'magic');
	if (r.u8() !== 1) fail(E.VERSION, 'key file version');
	const k = r.u8(), kdf = r.u8(), aead = r.u8(), ops = r.u32(), memKib = r.u32();
	const salt = r.str8(), nonce = r.str8(), check = r.str8(), comment = r.str8();
	for (const c of comment) if (c < 0x20 || c === 0x7f) fail(E.FORMAT, 'comment');
	const plen = r.u16();
	const ad = blob.subarray(0, r.off);
	const payload = r.bytes(plen);
	r.end();
	if (kdf > 1) fail(E.UNSUPPORTED, 'unknown kdf');
	if (kdf === 1 && aead === 1) {
		if (salt.length !== 16 || nonce.length !== 24 || check.length !== 16 ||
		    ops < 1 || ops > KDF_MAX_OPS || memKib < 8 || memKib > KDF_MAX_MEM_KIB)
			fail(E.FORMAT, 'kdf parameters');
	} else if (kdf === 0 && aead === 0) {
		if (salt.length || nonce.length || check.length || ops || memKib) fail(E.FORMAT, 'parameters');
	} else fail(E.FORMAT, 'kdf/aead combination');
	if (payload.length < 16) fail(E.FORMAT, 'payload');
	if (k !== kind) fail(E.TYPE, `key file kind ${k}, expected ${kind}`);
	return { kdf, ops, memKib, salt, nonce, check, ad, payload, comment };
}

function checkSecretLen(kind, n) {
	const ok = kind === KIND.USER ? n === 32 : kind === KIND.SIGNING ? n === 64 : n >= 50 && n <= 4096;
	if (!ok) fail(E.FORMAT, 'secret length');
}

export function keyFileEncrypted(text) {
	const blob = unarmor(text);
	return blob.length > 6 && blob[6] === 1;
}

// passphrase: a string ('' or null for none).  onProgress unused by noble.
export function readKeyFile(text, kind, passphrase) {
	const blob = unarmor(text);
	const f = parseBlob(blob, kind);
	const body = f.payload.subarray(0, f.payload.length - 16), tag = f.payload.subarray(f.payload.length - 16);
	let secret;
	if (f.kdf === 0) {
		const want = blake2b(concat(f.ad, body), { dkLen: 16 });
		if (!ctEqual(want, tag)) fail(E.FORMAT, 'checksum');
		secret = body.slice();
	} else {
		if (f.ops < KDF_MIN_OPS || f.memKib < KDF_MIN_MEM_KIB)
			fail(E.UNSUPPORTED, 'key file KDF limits too weak');
		if (!passphrase) fail(E.PASSPHRASE, 'passphrase needed');
		const pw = enc.encode(passphrase);
		const d = argon2id(pw, f.salt, { t: f.ops, m: f.memKib, p: 1, dkLen: 48, version: 0x13 });
		wipe(pw);
		try {
			if (!ctEqual(d.subarray(32, 48), f.check)) fail(E.PASSPHRASE, 'wrong passphrase');
			try {
				secret = xchacha20poly1305(d.subarray(0, 32), f.nonce, f.ad).decrypt(f.payload);
			} catch {
				throw new ScError(E.FORMAT, 'key file damaged');
			}
		} finally {
			wipe(d);
		}
	}
	wipe(blob);
	try {
		checkSecretLen(kind, secret.length);
	} catch (err) { wipe(secret); throw err; }
	return secret;
}

// §11.3
export function decodeVmFile(secret) {
	const r = new Reader(secret);
	const uuid = r.bytes(16).slice(), vmSecret = r.bytes(32).slice();
	const dk = r.str8();
	if (dk.length > 128) fail(E.FORMAT, 'disk key');
	const diskKeyLen = dk.length;
	const nameb = r.str8();
	if (nameb.length < 1 || nameb.some((c) => c < 0x20 || c > 0x7e)) fail(E.FORMAT, 'vm name');
	r.end();
	return { uuid, secret: vmSecret, diskKeyLen, name: String.fromCharCode(...nameb) };
}

// §11.4: "<prefix> <base64> [comment]"; in a file, # lines and blank lines skipped.
export function parsePubkeyText(prefix, text) {
	for (const raw of text.split('\n')) {
		const line = raw.replace(/\r$/, '');
		if (/^\s*$/.test(line) || line.startsWith('#')) continue;
		if (/[\x00-\x08\x0a-\x1f\x7f]/.test(line)) fail(E.FORMAT, 'control byte');
		const f = line.trim().split(/[ \t]+/);
		if (f[0] !== prefix) {
			if (f[0] === 'sccrypt-x25519' || f[0] === 'sccrypt-ed25519') fail(E.TYPE, `a ${f[0]} key, expected ${prefix}`);
			fail(E.FORMAT, 'not a public key line');
		}
		if (!f[1] || f[1].length !== 44) fail(E.FORMAT, 'key length');
		return b64decode(f[1]);
	}
	fail(E.FORMAT, 'no key line');
}

// §11.5
export function fingerprint(key) { return 'SC256:' + b64encode(blake2b(key, { dkLen: 32 }), false); }

export const CERT_SKEW = 300;
// §11.7 layout.
export function parseCert(bytes) {
	const r = new Reader(bytes);
	try {
		if (!ctEqual(r.bytes(4), enc.encode('SCC1'))) fail(E.FORMAT, 'certificate magic');
		const version = r.u8();
		if (version !== 1) fail(E.VERSION, 'certificate version');
		const hostb = r.str8();
		if (hostb.length < 1 || hostb.some((c) => c < 0x21 || c > 0x7e)) fail(E.FORMAT, 'certificate host');
		const hvPub = r.bytes(32), pcr = r.bytes(32), issued = r.u64(), expires = r.u64();
		const signer = r.bytes(32), signedLen = r.off, sig = r.bytes(64);
		r.end();
		if (issued >= expires) fail(E.FORMAT, 'issued >= expires');
		return { host: String.fromCharCode(...hostb), hvPub, pcr, issued, expires, signer, sig,
			signed: bytes.subarray(0, signedLen) };
	} catch (err) {
		if (err.code === E.VERSION) throw err;
		throw new ScError(E.FORMAT, `malformed certificate (${err.message})`);
	}
}
export function verifyCert(bytes, ksPub, { host = null, hvPub = null, now = Math.floor(Date.now() / 1000) } = {}) {
	const c = parseCert(bytes);
	if (!ctEqual(c.signer, ksPub)) fail(E.UNTRUSTED, 'certificate signed by another key server');
	let ok = false;
	try { ok = ed25519.verify(c.sig, c.signed, ksPub, { zip215: false }); } catch { ok = false; }
	if (!ok) fail(E.SIGNATURE, 'bad certificate signature');
	if (host !== null && host.toLowerCase() !== c.host.toLowerCase()) fail(E.MISMATCH, `certificate is for host ${c.host}`);
	if (hvPub !== null && !ctEqual(hvPub, c.hvPub)) fail(E.MISMATCH, 'certificate is for another hv key');
	const n = BigInt(now);
	if (c.issued > n + BigInt(CERT_SKEW) || n >= c.expires) fail(E.EXPIRED, 'certificate expired or not yet valid');
	return c;
}
