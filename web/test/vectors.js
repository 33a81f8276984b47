// vectors.js — Node runner: replays Noise test-vector files (the JSON format
// of tests/vectors/, any number of files) through web/src/noise.js, both
// sides, like tests/noise-vectors.c; then the record-layer checks of
// PROTOCOL.md §5 (v2).  Prints PASS/FAIL/SKIP lines and
// "N passed, N failed, N skipped"; exits 1 if anything failed.
// Usage: node web-vectors.cjs FILE.json... [--records]
import { readFileSync } from 'node:fs';
import { Handshake, patternLookup } from '../src/noise.js';
import { unhex, hex } from '../src/bytes.js';
import { recordChecks } from './record-checks.js';

const tot = { passed: 0, failed: 0, skipped: 0 };
const key = (v, k) => (v[k] ? unhex(v[k]) : null);
const eq = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

function replay(v) {
	const name = v.protocol_name;
	const side = (pfx, initiator) => new Handshake(name, {
		initiator, prologue: key(v, `${pfx}_prologue`) ?? new Uint8Array(0),
		s: key(v, `${pfx}_static`), rs: key(v, `${pfx}_remote_static`),
		e: key(v, `${pfx}_ephemeral`), psks: (v[`${pfx}_psks`] ?? []).map(unhex),
	});
	const init = side('init', true), resp = side('resp', false);
	let ti = null, tr = null, oneWay = false;
	v.messages.forEach((m, i) => {
		const payload = unhex(m.payload), ct = unhex(m.ciphertext);
		if (!ti) {
			const [snd, rcv] = init.myTurn ? [init, resp] : [resp, init];
			if (snd.initiator !== (i % 2 === 0)) throw new Error(`message ${i}: out of turn`);
			const out = snd.writeMessage(payload);
			if (!eq(out, ct)) throw new Error(`message ${i}: ciphertext differs: ${hex(out)}`);
			const pt = rcv.readMessage(ct);
			if (!eq(pt, payload)) throw new Error(`message ${i}: payload differs`);
			if (init.complete !== resp.complete) throw new Error(`message ${i}: sides disagree on completion`);
			if (!init.complete) return;
			if (!eq(init.handshakeHash, resp.handshakeHash)) throw new Error('handshake hashes differ');
			if (v.handshake_hash && !eq(init.handshakeHash, unhex(v.handshake_hash)))
				throw new Error('handshake_hash differs');
			ti = init.split(); tr = resp.split();
			oneWay = !ti.recv.hasKey;
			return;
		}
		const [snd, rcv] = oneWay || i % 2 === 0 ? [ti, tr] : [tr, ti];
		const out = snd.send.encrypt(new Uint8Array(0), payload);
		if (!eq(out, ct)) throw new Error(`message ${i}: transport ciphertext differs`);
		if (!eq(rcv.recv.decrypt(new Uint8Array(0), ct), payload)) throw new Error(`message ${i}: transport payload differs`);
	});
	if (!ti) throw new Error('vector ends before the handshake completes');
}

function runFile(path) {
	const d = JSON.parse(readFileSync(path, 'utf8'));
	for (const v of d.vectors ?? []) {
		const name = v.protocol_name;
		if (v.fallback || !patternLookup(name)) { tot.skipped++; console.log(`SKIP ${name}`); continue; }
		try {
			replay(v);
			tot.passed++; console.log(`PASS ${name}`);
		} catch (err) {
			tot.failed++; console.log(`FAIL ${name}: ${err.message}`);
		}
	}
}

const args = process.argv.slice(2);
for (const a of args) {
	if (a === '--records') {
		for (const [name, fn] of recordChecks) {
			try { fn(); tot.passed++; console.log(`PASS record: ${name}`); } catch (err) { tot.failed++; console.log(`FAIL record: ${name}: ${err.stack}`); }
		}
	} else runFile(a);
}
console.log(`${tot.passed} passed, ${tot.failed} failed, ${tot.skipped} skipped`);
process.exit(tot.failed ? 1 : 0);
