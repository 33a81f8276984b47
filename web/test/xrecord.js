// xrecord.js — the JS half of the C<->JS record round trip: web/src's
// Handshake, RecordLayer and frame codec as the client, the C core
// (tests/web/xrecord-peer) as the hv, over frames on pipes, in the binary
// and in the armored encoding.
// Runs: (1) 300 DATA records of lengths covering every padding bucket,
// each echoed reversed by C; REKEY both ways mid-stream; PING/PONG; the
// close handshake with record counts checked on both sides; (2) one record
// tampered in flight: C refuses it and answers CLOSE(PROTOCOL); (3) the
// frame decoders, C's and JS's, on the same streams in both encodings
// (valid, with CR/space/empty lines, mutated, truncated, hand-made edge
// cases): the same frames, the same error on the same byte, the same
// partial state at the end; the armored encoder against Node's base64.
// Prints "N passed, N failed, N skipped".   Usage: node web-xrecord.mjs PEER
import { spawn } from 'node:child_process';
import { Handshake, pubkeyOf } from '../src/noise.js';
import { RecordLayer, REC, ctLen } from '../src/record.js';
import { spawnSync } from 'node:child_process';
import { FRAME, FrameDecoder, encodeFrame } from '../src/frame.js';
import { concat, hex, enc, Writer } from '../src/bytes.js';
const enc8 = (t) => Uint8Array.from(t, (c) => c.charCodeAt(0));

const peer = process.argv[2];
const rnd = (n) => crypto.getRandomValues(new Uint8Array(n));
const tot = { passed: 0, failed: 0 };

function run(tamperAt, encoding = 'B') {
	return new Promise((resolve, reject) => {
		const hvSk = rnd(32), psk = rnd(32), prologue = concat(enc.encode('SCCrypt/1'), rnd(16), rnd(32));
		const p = spawn(peer, [hex(hvSk), hex(psk), hex(prologue), encoding], { stdio: ['pipe', 'pipe', 'inherit'] });
		const hs = new Handshake('Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b', { initiator: true, prologue,
			s: rnd(32), rs: pubkeyOf(hvSk), psks: [psk] });
		const dec = new FrameDecoder(encoding);
		let rl = null, sent = [], i = 0, rekeyed = false, closed = null, pong = false, lens = new Set();
		const N = 300;
		const send = (type, body) => p.stdin.write(encodeFrame(type, body, encoding));
		const rec = (type, payload) => {
			let ct = rl.seal(type, payload);
			if (tamperAt !== undefined && rl.stats.recordsSent === BigInt(tamperAt)) { ct = ct.slice(); ct[ct.length >> 1] ^= 0x10; }
			send(FRAME.RECORD, ct);
		};
		const next = () => {
			if (i === 150 && !rekeyed) { rec(REC.REKEY); return; }
			if (i === N) { rec(REC.PING, enc.encode('ping!')); return; }
			// lengths: every bucket edge, then random
			const edges = [0, 1, 61, 62, 253, 254, 1021, 1022, 4096];
			const len = i < edges.length ? edges[i] : Math.floor(Math.random() * 4097);
			lens.add(ctLen(len));
			const d = rnd(len);
			sent.push(d);
			rec(REC.DATA, d);
		};
		send(FRAME.HS_INIT, hs.writeMessage(new Writer().u8(2).u8(0).u32(0).done()));
		p.stdout.on('data', (chunk) => {
			try {
				for (const f of dec.push(new Uint8Array(chunk))) {
					if (!rl) {
						if (f.type !== FRAME.HS_RESP) throw new Error('no HS_RESP');
						hs.readMessage(f.body);
						rl = new RecordLayer(hs.split());
						next();
						continue;
					}
					const r = rl.open(f.body);
					if (r.type === REC.CLOSE) { closed = rl.parseClose(r.payload); continue; }
					if (r.type === REC.REKEY) continue;
					if (r.type === REC.PONG) { pong = new TextDecoder().decode(r.payload) === 'ping!'; send(FRAME.RECORD, rl.sealClose(0, '')); continue; }
					if (r.type !== REC.DATA) throw new Error(`record type ${r.type}`);
					if (new TextDecoder().decode(r.payload) === 'rekeyed' && i === 150 && !rekeyed) { rekeyed = true; next(); continue; }
					const want = sent[i].slice().reverse();
					if (want.length !== r.payload.length || want.some((x, k) => x !== r.payload[k])) throw new Error(`echo ${i} differs`);
					i++;
					next();
				}
			} catch (err) { p.kill(); reject(err); }
		});
		p.on('exit', (code) => resolve({ code, closed, i, rekeyed, pong, lens, rl }));
	});
}

async function check(name, fn) {
	try { await fn(); tot.passed++; console.log(`PASS ${name}`); } catch (err) { tot.failed++; console.log(`FAIL ${name}: ${err.message}`); }
}
await check('300 records C<->JS, every bucket, REKEY both ways, close handshake (binary)', async () => {
	const r = await run(undefined, 'B');
	if (r.code !== 0) throw new Error(`peer exit ${r.code}`);
	if (r.i !== 300 || !r.rekeyed || !r.pong) throw new Error(`i=${r.i} rekeyed=${r.rekeyed} pong=${r.pong}`);
	if (r.lens.size !== 4) throw new Error(`buckets ${[...r.lens]}`);
	if (!r.closed || r.closed.reason !== 0 || r.closed.recv !== r.rl.stats.recordsSent)
		throw new Error('the peer CLOSE does not count every record');
	if (r.rl.stats.rekeysRecv !== 1n || r.rl.stats.rekeysSent !== 1n) throw new Error('rekey counts');
});
await check('a record tampered in flight: C refuses it, answers CLOSE(PROTOCOL) (binary)', async () => {
	const r = await run(5, 'B');
	if (r.code !== 3) throw new Error(`peer exit ${r.code}`);
	if (!r.closed || r.closed.reason !== 2) throw new Error('no CLOSE(PROTOCOL) from the peer');
	if (r.i !== 4) throw new Error(`${r.i} records echoed before the tampered one`);
});
await check('300 records C<->JS, every bucket, REKEY both ways, close handshake (armored)', async () => {
	const r = await run(undefined, 'A');
	if (r.code !== 0) throw new Error(`peer exit ${r.code}`);
	if (r.i !== 300 || !r.rekeyed || !r.pong) throw new Error(`i=${r.i} rekeyed=${r.rekeyed} pong=${r.pong}`);
	if (r.lens.size !== 4) throw new Error(`buckets ${[...r.lens]}`);
	if (!r.closed || r.closed.reason !== 0 || r.closed.recv !== r.rl.stats.recordsSent)
		throw new Error('the peer CLOSE does not count every record');
	if (r.rl.stats.rekeysRecv !== 1n || r.rl.stats.rekeysSent !== 1n) throw new Error('rekey counts');
});
await check('a record tampered in flight: C refuses it, answers CLOSE(PROTOCOL) (armored)', async () => {
	const r = await run(5, 'A');
	if (r.code !== 3) throw new Error(`peer exit ${r.code}`);
	if (!r.closed || r.closed.reason !== 2) throw new Error('no CLOSE(PROTOCOL) from the peer');
	if (r.i !== 4) throw new Error(`${r.i} records echoed before the tampered one`);
});

// (3) The decoders side by side.  C's SC_ERR_* numbers (lib/core/err.h).
const ERRNO = { SC_ERR_TRUNCATED: -5, SC_ERR_TOOLONG: -6, SC_ERR_TYPE: -9, SC_ERR_FORMAT: -10 };
function jsDecode(stream, enc) {
	const dec = new FrameDecoder(enc), out = [];
	const line = (f) => out.push(`F ${f.type} ${hex(f.body)}`);
	for (let off = 0; off < stream.length;) {
		const n = 1 + Math.floor(Math.random() * 64);	// another chunking than C's
		try {
			for (const f of dec.push(stream.subarray(off, off + n))) line(f);
		} catch (err) {
			for (const f of err.frames ?? []) line(f);
			out.push(`E ${ERRNO[err.code] ?? err.code} ${err.offset}`);
			return out.join('\n');
		}
		off += n;
	}
	out.push(`P ${dec.partial ? 1 : 0}`);
	return out.join('\n');
}
const cDecode = (stream, enc) => {
	const r = spawnSync(peer, ['--decode', enc], { input: stream, maxBuffer: 1 << 24 });
	if (r.status !== 0) throw new Error(`peer --decode exit ${r.status}`);
	return r.stdout.toString().trim();
};
const pick = (a) => a[Math.floor(Math.random() * a.length)];
function validStream(enc) {
	const parts = [];
	const nf = 1 + Math.floor(Math.random() * 6);
	for (let k = 0; k < nf; k++) {
		const len = Math.random() < 0.05 ? 8192 : Math.floor(Math.random() * (Math.random() < 0.5 ? 8 : 400));
		let b = encodeFrame(1 + Math.floor(Math.random() * 8), rnd(len), enc);
		if (enc === 'A' && Math.random() < 0.5) {	// CR, spaces, empty lines: ignored
			const x = [...b];
			for (let m = 0; m < 3; m++) x.splice(Math.floor(Math.random() * x.length), 0, pick([0x0d, 0x20, 0x0a]));
			if (x[0] === 0x0a || Math.random() < 0.3) x.unshift(0x0a);
			b = Uint8Array.from(x);
		}
		parts.push(b);
	}
	return concat(...parts);
}
function mutate(s, enc) {
	const x = [...s];
	const interesting = enc === 'A' ? [0x3d, 0x0a, 0x0d, 0x20, 0x2d, 0x5f, 0x00, 0x09, 0x41, 0x2b, 0x2f, 0x51, 0x67]
		: [0x10, 0x11, 0x13, 0x1d, 0x7e, 0x30, 0x31, 0x00, 0x09, 0xff];
	const nm = 1 + Math.floor(Math.random() * 3);
	for (let m = 0; m < nm && x.length; m++) {
		const at = Math.floor(Math.random() * x.length), op = Math.random();
		if (op < 0.5) x[at] = Math.random() < 0.7 ? pick(interesting) : Math.floor(Math.random() * 256);
		else if (op < 0.7) x.splice(at, 1);
		else if (op < 0.85) x.splice(at, 0, pick(interesting));
		else x.length = at;
	}
	return Uint8Array.from(x);
}
const armorCases = ['AQAA', 'AQAA\n', 'AQAA\r\n \n', '\n\n\nAQAA\n', 'AQAB\n', 'AQA=\n', 'AQ==\n', 'AQAAAA==\n', 'AQAAAQ==\n',
	'AQAAAB==\n', 'AQAAAAA=\n', 'AQAAAAE=\n', 'AQAAAA=A\n', 'A=AA\n', '=AAA\n', 'AQAAAA==AA\n', 'AQAAAA== \n', 'AQAAAA==\r\n',
	'AAAA\n', 'CQAA\n', 'ASAB\n', 'ASAAAA==\n', 'AQAAQUFB\n', 'AQAC\n', 'AQACQUI=\n', 'AQACQUI=AQAA\n', 'AQAC QUI=\n',
	'AQAA-AQAA\n', 'AQAA_\n', 'AQ\tAA\n', 'AQAA\0\n', 'AQ', 'AQA', '=', '\n=', 'AQAA\nAQAA\nCAAA\n', 'Bg==\n', 'BgA=\n'];
const binaryCases = [[1, 0, 0], [1, 0], [9, 0, 0], [0, 0, 0], [1, 0x20, 1], [1, 0x10, 0x30, 0], [0x10, 0x31], [0x11], [1, 0, 1, 0x10],
	[1, 0, 1, 0x10, 0x20], [1, 0, 1, 0x10, 0x5e], [1, 0, 1, 0x7e], [8, 0, 0, 8, 0, 0, 1]];
for (const [enc, name] of [['B', 'binary'], ['A', 'armored']]) {
	await check(`C and JS decoders agree on ${name} streams (valid, mutated, edge cases)`, async () => {
		const streams = (enc === 'A' ? armorCases.map((c) => enc8(c)) : binaryCases.map((c) => Uint8Array.from(c)));
		for (let k = 0; k < 60; k++) streams.push(validStream(enc));
		for (let k = 0; k < 140; k++) streams.push(mutate(validStream(enc), enc));
		const seen = new Set();
		for (const st of streams) {
			const c = cDecode(st, enc), j = jsDecode(st, enc);
			if (c !== j) throw new Error(`stream ${hex(st).slice(0, 120)}: C says ${c.slice(-80)}, JS says ${j.slice(-80)}`);
			seen.add(c.split('\n').pop().split(' ').slice(0, 2).join(' '));
		}
		// The mix must have exercised every outcome, or the test proves little.
		const want = enc === 'A' ? ['P 0', 'P 1', 'E -5', 'E -6', 'E -9', 'E -10'] : ['P 0', 'P 1', 'E -6', 'E -9', 'E -10'];
		for (const w of want) if (![...seen].some((x) => x === w)) throw new Error(`no stream ended in ${w} (${[...seen]})`);
	});
}
await check('armored encoder = standard base64 (Node) + LF, every length 0..300', async () => {
	for (let len = 0; len <= 300; len++) {
		const body = rnd(len), raw = concat(Uint8Array.of(4, len >> 8, len & 0xff), body);
		const want = Buffer.from(raw).toString('base64') + '\n';
		const got = new TextDecoder().decode(encodeFrame(4, body, 'A'));
		if (got !== want) throw new Error(`length ${len}: ${got} != ${want}`);
	}
});
console.log(`${tot.passed} passed, ${tot.failed} failed, 0 skipped`);
process.exit(tot.failed ? 1 : 0);
