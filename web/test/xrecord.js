// xrecord.js — the JS half of the C<->JS record round trip: web/src's
// Handshake, RecordLayer and frame codec as the client, the C core
// (tests/web/xrecord-peer) as the hv, over binary frames on pipes.
// Runs: (1) 300 DATA records of lengths covering every padding bucket,
// each echoed reversed by C; REKEY both ways mid-stream; PING/PONG; the
// close handshake with record counts checked on both sides; (2) one record
// tampered in flight: C refuses it and answers CLOSE(PROTOCOL).
// Prints "N passed, N failed, N skipped".   Usage: node web-xrecord.mjs PEER
import { spawn } from 'node:child_process';
import { Handshake, pubkeyOf } from '../src/noise.js';
import { RecordLayer, REC, ctLen } from '../src/record.js';
import { FRAME, FrameDecoder, encodeFrame } from '../src/frame.js';
import { concat, hex, enc, Writer } from '../src/bytes.js';

const peer = process.argv[2];
const rnd = (n) => crypto.getRandomValues(new Uint8Array(n));
const tot = { passed: 0, failed: 0 };

function run(tamperAt) {
	return new Promise((resolve, reject) => {
		const hvSk = rnd(32), psk = rnd(32), prologue = concat(enc.encode('SCCrypt/1'), rnd(16), rnd(32));
		const p = spawn(peer, [hex(hvSk), hex(psk), hex(prologue)], { stdio: ['pipe', 'pipe', 'inherit'] });
		const hs = new Handshake('Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b', { initiator: true, prologue,
			s: rnd(32), rs: pubkeyOf(hvSk), psks: [psk] });
		const dec = new FrameDecoder();
		let rl = null, sent = [], i = 0, rekeyed = false, closed = null, pong = false, lens = new Set();
		const N = 300;
		const send = (type, body) => p.stdin.write(encodeFrame(type, body));
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
await check('300 records C<->JS, every bucket, REKEY both ways, close handshake', async () => {
	const r = await run();
	if (r.code !== 0) throw new Error(`peer exit ${r.code}`);
	if (r.i !== 300 || !r.rekeyed || !r.pong) throw new Error(`i=${r.i} rekeyed=${r.rekeyed} pong=${r.pong}`);
	if (r.lens.size !== 4) throw new Error(`buckets ${[...r.lens]}`);
	if (!r.closed || r.closed.reason !== 0 || r.closed.recv !== r.rl.stats.recordsSent)
		throw new Error('the peer CLOSE does not count every record');
	if (r.rl.stats.rekeysRecv !== 1n || r.rl.stats.rekeysSent !== 1n) throw new Error('rekey counts');
});
await check('a record tampered in flight: C refuses it, answers CLOSE(PROTOCOL)', async () => {
	const r = await run(5);
	if (r.code !== 3) throw new Error(`peer exit ${r.code}`);
	if (!r.closed || r.closed.reason !== 2) throw new Error('no CLOSE(PROTOCOL) from the peer');
	if (r.i !== 4) throw new Error(`${r.i} records echoed before the tampered one`);
});
console.log(`${tot.passed} passed, ${tot.failed} failed, 0 skipped`);
process.exit(tot.failed ? 1 : 0);
