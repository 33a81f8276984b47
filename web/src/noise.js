// noise.js — Noise_*_25519_ChaChaPoly_BLAKE2b (rev. 34), the JS twin of
// lib/core/noise.c (PROTOCOL.md §4).  Primitives come only from the audited
// @noble libraries: X25519 (@noble/curves), ChaCha20-Poly1305
// (@noble/ciphers), BLAKE2b and HMAC (@noble/hashes).  This file only
// composes them as the Noise spec says.
//
// Contract: new Handshake(name, {initiator, prologue, s, rs, psks, e})
// where s/e are 32-byte private keys (e only for the test-vector runner),
// rs a 32-byte public key, psks an array of 32-byte keys.  writeMessage(p)
// returns the message; readMessage(m) returns the payload.  Any failure
// throws ScError and poisons the handshake (every later call: SC_ERR_STATE).
// After the last message, split() returns {send, recv} CipherStates.
import { x25519 } from '@noble/curves/ed25519';
import { chacha20poly1305 } from '@noble/ciphers/chacha';
import { blake2b } from '@noble/hashes/blake2b';
import { hmac } from '@noble/hashes/hmac';
import { concat, wipe } from './bytes.js';
import { E, ScError, fail } from './errors.js';

export const HASHLEN = 64;
export const DHLEN = 32;
export const TAGLEN = 16;
export const MSG_MAX = 65535;
const MAX_NONCE = 2n ** 64n - 1n;	// reserved (rev. 34 §5.1)
const EMPTY = new Uint8Array(0);

// Base patterns: [pre_i, pre_r, messages]; tokens as strings.
const P = (pi, pr, ...m) => ({ preI: pi, preR: pr, msgs: m.map((x) => x.split(' ').filter(Boolean)) });
const BASES = {
	N: P('', 's', 'e es'), K: P('s', 's', 'e es ss'), X: P('', 's', 'e es s ss'),
	NN: P('', '', 'e', 'e ee'), NK: P('', 's', 'e es', 'e ee'), NX: P('', '', 'e', 'e ee s es'),
	KN: P('s', '', 'e', 'e ee se'), KK: P('s', 's', 'e es ss', 'e ee se'),
	KX: P('s', '', 'e', 'e ee se s es'), XN: P('', '', 'e', 'e ee', 's se'),
	XK: P('', 's', 'e es', 'e ee', 's se'), XX: P('', '', 'e', 'e ee s es', 's se'),
	IN: P('', '', 'e s', 'e ee se'), IK: P('', 's', 'e es s ss', 'e ee se'),
	IX: P('', '', 'e s', 'e ee se s es'),
	NK1: P('', 's', 'e', 'e ee es'), NX1: P('', '', 'e', 'e ee s', 'es'),
	X1N: P('', '', 'e', 'e ee', 's', 'se'), X1K: P('', 's', 'e es', 'e ee', 's', 'se'),
	XK1: P('', 's', 'e', 'e ee es', 's se'), X1K1: P('', 's', 'e', 'e ee es', 's', 'se'),
	X1X: P('', '', 'e', 'e ee s es', 's', 'se'), XX1: P('', '', 'e', 'e ee s', 'es s se'),
	X1X1: P('', '', 'e', 'e ee s', 'es s', 'se'), K1N: P('s', '', 'e', 'e ee', 'se'),
	K1K: P('s', 's', 'e es', 'e ee', 'se'), KK1: P('s', 's', 'e', 'e ee se es'),
	K1K1: P('s', 's', 'e', 'e ee es', 'se'), K1X: P('s', '', 'e', 'e ee s es', 'se'),
	KX1: P('s', '', 'e', 'e ee se s', 'es'), K1X1: P('s', '', 'e', 'e ee s', 'se es'),
	I1N: P('', '', 'e s', 'e ee', 'se'), I1K: P('', 's', 'e es s', 'e ee', 'se'),
	IK1: P('', 's', 'e s', 'e ee se es'), I1K1: P('', 's', 'e s', 'e ee es', 'se'),
	I1X: P('', '', 'e s', 'e ee s es', 'se'), IX1: P('', '', 'e s', 'e ee se s', 'es'),
	I1X1: P('', '', 'e s', 'e ee s', 'se es'),
};
const NAME_RE = /^Noise_([A-Z1]+)((?:psk[0-9])(?:\+psk[0-9])*)?_25519_ChaChaPoly_BLAKE2b$/;

// The pattern for a protocol name, or null when unsupported (like
// sc_noise_pattern_lookup: psk positions ascending, at most 4).
export function patternLookup(name) {
	const m = NAME_RE.exec(name);
	if (!m || !Object.hasOwn(BASES, m[1])) return null;
	const base = BASES[m[1]];
	const msgs = base.msgs.map((x) => x.slice());
	if (m[2]) {
		const pos = m[2].split('+').map((x) => Number(x.slice(3)));
		if (pos.length > 4) return null;
		for (let i = 0; i < pos.length; i++) {
			if (pos[i] > msgs.length || (i > 0 && pos[i] <= pos[i - 1])) return null;
			if (pos[i] === 0) msgs[0].unshift('psk');
			else msgs[pos[i] - 1].push('psk');
		}
	}
	return { name, preI: base.preI, preR: base.preR, msgs, psk: !!m[2] };
}

function nonce12(n) {
	const b = new Uint8Array(12);
	new DataView(b.buffer).setBigUint64(4, n, true);
	return b;
}
function aeadEncrypt(k, n, ad, pt) { return chacha20poly1305(k, nonce12(n), ad).encrypt(pt); }
function aeadDecrypt(k, n, ad, ct) {
	try {
		return chacha20poly1305(k, nonce12(n), ad).decrypt(ct);
	} catch {
		throw new ScError(E.DECRYPT, 'authentication failed');
	}
}
const H = (data) => blake2b(data, { dkLen: HASHLEN });
function hkdf(ck, ikm, n) {
	const tk = hmac(blake2b, ck, ikm);
	const outs = [];
	let prev = EMPTY;
	for (let i = 1; i <= n; i++) {
		prev = hmac(blake2b, tk, concat(prev, Uint8Array.of(i)));
		outs.push(prev);
	}
	wipe(tk);
	return outs;
}
export function dh(priv, pub) {
	try {
		return x25519.getSharedSecret(priv, pub);	// refuses an all-zero result
	} catch {
		throw new ScError(E.BADKEY, 'X25519 refused the peer key');
	}
}
export const pubkeyOf = (priv) => x25519.getPublicKey(priv);
export const randomPrivate = () => x25519.utils.randomPrivateKey();

// One direction of the transport (CipherState).  n is a BigInt.
export class CipherState {
	constructor(k) { this.k = k ? k.slice(0, 32) : null; this.n = 0n; }
	get hasKey() { return this.k !== null; }
	encrypt(ad, pt) {
		if (!this.k) fail(E.STATE, 'no key');
		if (this.n >= MAX_NONCE - 1n) fail(E.NONCE);
		if (pt.length > MSG_MAX - TAGLEN) fail(E.TOOLONG);
		const ct = aeadEncrypt(this.k, this.n, ad, pt);
		this.n++;
		return ct;
	}
	decrypt(ad, ct) {
		if (!this.k) fail(E.STATE, 'no key');
		if (ct.length > MSG_MAX) fail(E.TOOLONG);
		if (ct.length < TAGLEN) fail(E.DECRYPT, 'shorter than a tag');
		if (this.n >= MAX_NONCE - 1n) fail(E.NONCE);
		const pt = aeadDecrypt(this.k, this.n, ad, ct);
		this.n++;
		return pt;
	}
	rekey() {
		if (!this.k) fail(E.STATE, 'no key');
		const nk = aeadEncrypt(this.k, MAX_NONCE, EMPTY, new Uint8Array(32)).slice(0, 32);
		wipe(this.k);
		this.k = nk;
	}
	wipe() { if (this.k) wipe(this.k); this.k = null; }
}

export class Handshake {
	constructor(name, { initiator, prologue = EMPTY, s = null, rs = null, psks = [], e = null }) {
		const pat = patternLookup(name);
		if (!pat) fail(E.UNSUPPORTED, name);
		this.pat = pat;
		this.initiator = initiator;
		this.s = s ? { priv: s.slice(), pub: pubkeyOf(s) } : null;
		this.fixedE = e ? e.slice() : null;
		this.e = null;
		this.rs = rs ? rs.slice() : null;
		this.re = null;
		this.psks = psks.map((p) => p.slice());
		this.msgIndex = 0;
		this.dead = false;
		const nb = new TextEncoder().encode(name);
		this.h = nb.length <= HASHLEN ? concat(nb, new Uint8Array(HASHLEN - nb.length)) : H(nb);
		this.ck = this.h.slice();
		this.k = null;
		this.n = 0n;
		this.mixHash(prologue);
		// Pre-messages: the initiator's first, then the responder's.
		for (const [who, tok] of [['i', pat.preI], ['r', pat.preR]]) {
			if (tok !== 's') continue;
			const mine = (who === 'i') === initiator;
			const key = mine ? this.s?.pub : this.rs;
			if (!key) fail(E.INVAL, 'pre-message key missing');
			this.mixHash(key);
		}
	}
	get complete() { return !this.dead && this.msgIndex >= this.pat.msgs.length; }
	get myTurn() { return !this.dead && !this.complete && ((this.msgIndex % 2 === 0) === this.initiator); }
	get handshakeHash() { return this.h; }

	mixHash(data) { this.h = H(concat(this.h, data)); }
	mixKey(ikm) {
		const [ck, k] = hkdf(this.ck, ikm, 2);
		wipe(this.ck);
		this.ck = ck; this.k = k.slice(0, 32); this.n = 0n;
	}
	mixKeyAndHash(ikm) {
		const [ck, th, k] = hkdf(this.ck, ikm, 3);
		wipe(this.ck);
		this.ck = ck; this.mixHash(th); this.k = k.slice(0, 32); this.n = 0n;
	}
	encryptAndHash(pt) {
		const ct = this.k ? aeadEncrypt(this.k, this.n++, this.h, pt) : pt;
		this.mixHash(ct);
		return ct;
	}
	decryptAndHash(ct) {
		const pt = this.k ? aeadDecrypt(this.k, this.n, this.h, ct) : ct;
		if (this.k) this.n++;
		this.mixHash(ct);
		return pt;
	}
	dhToken(tok) {
		// ee, es, se, ss: first letter = initiator's key, second = responder's.
		const [a, b] = tok;
		const mine = this.initiator ? a : b, theirs = this.initiator ? b : a;
		const priv = mine === 'e' ? this.e?.priv : this.s?.priv;
		const pub = theirs === 'e' ? this.re : this.rs;
		if (!priv || !pub) fail(E.STATE, `missing key for ${tok}`);
		const shared = dh(priv, pub);
		this.mixKey(shared);
		wipe(shared);
	}
	guard(fn) {
		if (this.dead) fail(E.STATE, 'handshake failed or wiped');
		try {
			return fn();
		} catch (err) {
			this.wipe();
			throw err;
		}
	}
	nextPsk() {
		if (this.psks.length === 0) fail(E.STATE, 'no psk left');
		return this.psks.shift();
	}
	writeMessage(payload) {
		return this.guard(() => {
			if (!this.myTurn) fail(E.STATE, 'not my turn');
			const out = [];
			for (const tok of this.pat.msgs[this.msgIndex]) {
				if (tok === 'e') {
					const priv = this.fixedE ?? randomPrivate();
					this.e = { priv, pub: pubkeyOf(priv) };
					out.push(this.e.pub);
					this.mixHash(this.e.pub);
					if (this.pat.psk) this.mixKey(this.e.pub);
				} else if (tok === 's') {
					if (!this.s) fail(E.STATE, 'no static key');
					out.push(this.encryptAndHash(this.s.pub));
				} else if (tok === 'psk') {
					const p = this.nextPsk();
					this.mixKeyAndHash(p);
					wipe(p);
				} else this.dhToken(tok);
			}
			out.push(this.encryptAndHash(payload));
			const msg = concat(...out);
			if (msg.length > MSG_MAX) fail(E.TOOLONG);
			this.msgIndex++;
			return msg;
		});
	}
	readMessage(msg) {
		return this.guard(() => {
			if (this.dead || this.complete || this.myTurn) fail(E.STATE, 'not my turn to read');
			if (msg.length > MSG_MAX) fail(E.TOOLONG);
			let off = 0;
			const take = (n) => {
				if (msg.length - off < n) fail(E.TRUNCATED);
				const v = msg.subarray(off, off + n); off += n; return v;
			};
			for (const tok of this.pat.msgs[this.msgIndex]) {
				if (tok === 'e') {
					this.re = take(DHLEN).slice();
					this.mixHash(this.re);
					if (this.pat.psk) this.mixKey(this.re);
				} else if (tok === 's') {
					this.rs = this.decryptAndHash(take(this.k ? DHLEN + TAGLEN : DHLEN)).slice();
				} else if (tok === 'psk') {
					const p = this.nextPsk();
					this.mixKeyAndHash(p);
					wipe(p);
				} else this.dhToken(tok);
			}
			if (this.k && msg.length - off < TAGLEN) fail(E.TRUNCATED);
			const payload = this.decryptAndHash(msg.subarray(off));
			this.msgIndex++;
			return payload;
		});
	}
	// Initiator sends with c1, responder with c2 (§4.4).
	split() {
		if (!this.complete) fail(E.STATE, 'handshake not complete');
		const [k1, k2] = hkdf(this.ck, EMPTY, 2);
		const c1 = new CipherState(k1), c2 = new CipherState(k2);
		wipe(k1, k2);
		if (this.pat.msgs.length === 1) c2.wipe();	// one-way: no responder key
		const hh = this.h.slice();
		this.wipeKeys();
		return this.initiator ? { send: c1, recv: c2, hash: hh } : { send: c2, recv: c1, hash: hh };
	}
	wipeKeys() {
		wipe(this.ck, this.k, this.s?.priv, this.e?.priv, this.fixedE, ...this.psks);
		this.k = null;
	}
	wipe() { this.wipeKeys(); this.dead = true; }
}
