// record-checks.js — the record layer (PROTOCOL.md §5, v2) checked in JS
// over a real IKpsk2 handshake: padding buckets, the example of §5.1,
// strictness (tamper, replay, drop, reorder, reflection, bad sizes),
// REKEY, CLOSE counts.  Each check throws on failure.
import { Handshake, pubkeyOf } from '../src/noise.js';
import { RecordLayer, REC, ctLen, PADS } from '../src/record.js';
import { E } from '../src/errors.js';

const NAME = 'Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b';
const rnd = (n) => crypto.getRandomValues(new Uint8Array(n));
function pair() {
	const cs = rnd(32), hs = rnd(32), psk = rnd(32), prologue = rnd(57);
	const i = new Handshake(NAME, { initiator: true, prologue, s: cs, rs: pubkeyOf(hs), psks: [psk] });
	const r = new Handshake(NAME, { initiator: false, prologue, s: hs, psks: [psk] });
	r.readMessage(i.writeMessage(new Uint8Array(6)));
	i.readMessage(r.writeMessage(new Uint8Array(14)));
	return [new RecordLayer(i.split()), new RecordLayer(r.split())];
}
function assert(c, m) { if (!c) throw new Error(m); }
function throwsCode(fn, code) {
	try { fn(); } catch (err) { if (err.code === code) return; throw new Error(`expected ${code}, got ${err.code ?? err}`); }
	throw new Error(`expected ${code}, nothing thrown`);
}
const eq = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

export const recordChecks = [
	['padded sizes', () => {
		for (const [len, ct] of [[0, 80], [61, 80], [62, 272], [253, 272], [254, 1040], [1021, 1040], [1022, 4115], [4096, 4115]])
			assert(ctLen(len) === ct, `ctLen(${len}) = ${ctLen(len)}, want ${ct}`);
		const [c, h] = pair();
		for (const len of [0, 1, 61, 62, 300, 1022, 4096]) {
			const p = rnd(len), ct = c.seal(REC.DATA, p);
			assert(ct.length === ctLen(len), `sealed ${len} to ${ct.length}`);
			const o = h.open(ct);
			assert(o.type === REC.DATA && eq(o.payload, p), `round trip ${len}`);
		}
		throwsCode(() => c.seal(REC.DATA, rnd(4097)), E.TOOLONG);
		throwsCode(() => c.seal(0x0c, rnd(1)), E.TYPE);
		throwsCode(() => c.seal(REC.REKEY, rnd(1)), E.INVAL);
		assert(eq(h.open(c.seal(REC.DATA, Uint8Array.of(0x61))).payload, Uint8Array.of(0x61)), 'caller errors did not kill the layer');
	}],
	['tamper, replay, drop, reorder, reflection kill the receive direction', () => {
		for (const attack of ['flip', 'replay', 'drop', 'reorder', 'reflect', 'size']) {
			const [c, h] = pair();
			const a = c.seal(REC.DATA, Uint8Array.of(1)), b = c.seal(REC.DATA, Uint8Array.of(2));
			if (attack === 'flip') { const x = a.slice(); x[5] ^= 1; throwsCode(() => h.open(x), E.DECRYPT); }
			if (attack === 'replay') { h.open(a); throwsCode(() => h.open(a), E.DECRYPT); }
			if (attack === 'drop' || attack === 'reorder') throwsCode(() => h.open(b), E.DECRYPT);
			if (attack === 'reflect') throwsCode(() => c.open(a), E.DECRYPT);
			if (attack === 'size') throwsCode(() => h.open(a.subarray(0, 79)), E.TRUNCATED);
			const victim = attack === 'reflect' ? c : h;
			throwsCode(() => victim.open(attack === 'reflect' ? h.seal(REC.DATA, Uint8Array.of(3)) : a), E.STATE);
		}
		throwsCode(() => pair()[1].open(new Uint8Array(100)), E.FORMAT);
		throwsCode(() => pair()[1].open(new Uint8Array(4116)), E.TOOLONG);
	}],
	['rekey is in band and per direction', () => {
		const [c, h] = pair();
		const first = c.seal(REC.DATA, Uint8Array.of(1));
		const rk = c.seal(REC.REKEY), d = c.seal(REC.DATA, Uint8Array.of(2));
		assert(c.stats.rekeysSent === 1n && c.stats.sinceRekeySend === 1n, 'rekey stats');
		h.open(first);
		// A receiver that misses the REKEY cannot open what follows it.
		const [c2, h2] = pair();
		c2.seal(REC.REKEY);
		throwsCode(() => h2.open(c2.seal(REC.DATA, Uint8Array.of(9))), E.DECRYPT);
		const o = h.open(rk);
		assert(o.type === REC.REKEY && o.payload.length === 0, 'REKEY opened');
		assert(eq(h.open(d).payload, Uint8Array.of(2)), 'record after REKEY');
		// The other direction is untouched.
		assert(eq(c.open(h.seal(REC.DATA, Uint8Array.of(3))).payload, Uint8Array.of(3)), 'reverse direction');
	}],
	['CLOSE carries and checks the record counts', () => {
		const [c, h] = pair();
		for (let i = 0; i < 3; i++) h.open(c.seal(REC.DATA, Uint8Array.of(i)));
		c.open(h.seal(REC.DATA, Uint8Array.of(7)));
		const cl = c.sealClose(0, 'bye now');
		assert(cl.length === 80, `CLOSE is ${cl.length} bytes`);
		const o = h.open(cl);
		assert(o.type === REC.CLOSE, 'type');
		const p = h.parseClose(o.payload);
		assert(p.sent === 3n && p.recv === 1n && p.text === 'bye now' && p.reasonName === 'NORMAL', JSON.stringify(p, (k, v) => (typeof v === 'bigint' ? String(v) : v)));
		const ans = h.sealClose(0, 'closed by the client');
		const q = c.parseClose(c.open(ans).payload);
		assert(q.recv === 4n && q.sent === 1n, 'answer counts every client record');
		// Counts that do not match: sent too small / recv too large.
		const [c3, h3] = pair();
		h3.open(c3.seal(REC.DATA, Uint8Array.of(1)));
		const lie = c3.seal(REC.CLOSE, Uint8Array.from([0, ...new Uint8Array(7), 0, ...new Uint8Array(7), 5, 0]));
		throwsCode(() => h3.parseClose(h3.open(lie).payload), E.MISMATCH);
		const [c4, h4] = pair();
		const v1 = c4.seal(REC.CLOSE, Uint8Array.of(0, 2, 0x68, 0x69));	// v1 layout: reason str8
		throwsCode(() => h4.parseClose(h4.open(v1).payload), E.TRUNCATED);
		const long = c4.sealClose(2, 'x'.repeat(100));
		assert(long.length === 80, 'long text cut to 40');
	}],
	['padding must be minimal and zero', () => {
		// Forge plaintexts with the raw cipher: non-zero padding, a length
		// that fits a smaller bucket, a length beyond the bucket.
		for (const bad of ['pad', 'bucket', 'len']) {
			const [c, h] = pair();
			let pt;
			if (bad === 'pad') { pt = new Uint8Array(64); pt.set([1, 0, 1, 0x61]); pt[63] = 1; }
			if (bad === 'bucket') { pt = new Uint8Array(256); pt.set([1, 0, 1, 0x61]); }
			if (bad === 'len') { pt = new Uint8Array(64); pt.set([1, 0, 62]); }
			const ct = c.send.encrypt(new Uint8Array(0), pt);
			throwsCode(() => h.open(ct), E.FORMAT);
		}
		const [c, h] = pair();
		const pt = new Uint8Array(PADS[0]); pt.set([0x0c, 0, 0]);
		throwsCode(() => h.open(c.send.encrypt(new Uint8Array(0), pt)), E.TYPE);
	}],
];
