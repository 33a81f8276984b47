// e2e.js — the web client in Node, for tests and the benchmark: the same
// client.js session and gateway.js protocol as the page, over the `ws`
// package.  Keystrokes from stdin (held until the session opens, never in
// clear); authenticated console output to stdout; everything else on
// stderr as lines "STATE s", "NOTICE text", "CLEAR <hex>", "END exit text".
// At stdin EOF it runs the close handshake once the output holds --expect
// TEXT (an event, whatever the load), or, without --expect, once no output
// came for --linger ms after the session opened.  Exit status: the session's (sccrypt-term's codes).
//
//   node web-e2e.mjs --url wss://H:P/ --ca CA.pem --token T --vm VM
//        --home KEYSTORE [--host NAME] [--origin O] [--passphrase P]
//        [--trust-hv-key FP] [--linger MS] [--expect TEXT] [--viewer] [--takeover] [--armor]
//   node web-e2e.mjs --mitm --listen PORT --to wss://H:P/ --ca CA.pem
//        --ctl FIFO      (a hostile WebSocket hop for the tamper tests)
import { readFileSync, createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { Session } from '../src/client.js';
import { connect } from '../src/gateway.js';
import { KIND, readKeyFile, decodeVmFile, parsePubkeyText } from '../src/keys.js';
import { FRAME, FrameDecoder, HelloScanner, MAGIC, encodeFrame, encodeHello, parseHello } from '../src/frame.js';
import { hex } from '../src/bytes.js';

const args = process.argv.slice(2);
const opt = (k, d = null) => { const i = args.lastIndexOf(k); return i >= 0 ? args[i + 1] : d; };
const flag = (k) => args.includes(k);
const log = (s) => process.stderr.write(`${s}\n`);

function client() {
	const home = opt('--home');
	const pass = opt('--passphrase', '');
	const key = readKeyFile(readFileSync(join(home, 'id_x25519'), 'utf8'), KIND.USER, pass);
	const vmName = opt('--vm');
	const vmSecret = readKeyFile(readFileSync(join(home, 'vms', vmName), 'utf8'), KIND.VM, pass);
	const vmFile = decodeVmFile(vmSecret);
	let ksPub = null;
	try { ksPub = parsePubkeyText('sccrypt-ed25519', readFileSync(join(home, 'keyserver.pub'), 'utf8')); } catch { /* none pinned */ }
	const linger = Number(opt('--linger', '1000'));
	const expect = opt('--expect') ? Buffer.from(opt('--expect')) : null;
	let gw, lastOut = Date.now(), stdinEof = false, eofAt = 0, seen = Buffer.alloc(0), found = false;
	const s = new Session({ vm: vmName, host: opt('--host'), consoleKey: key, vmFile, ksPub,
		trustFp: opt('--trust-hv-key'), viewer: flag('--viewer'), takeover: flag('--takeover') }, {
		send: (b) => gw.send(b),
		clear: (b) => log(`CLEAR ${hex(b)}`),
		output: (b) => {
			lastOut = Date.now();
			process.stdout.write(b);
			if (expect && !found) {
				seen = Buffer.concat([seen, b]).subarray(-4096);
				found = seen.includes(expect);
			}
		},
		notice: (t) => log(`NOTICE ${t}`),
		state: (st) => { if (st === 'encrypted') lastOut = Date.now(); log(`STATE ${st}`); },
		tofu: () => false,
		end: ({ exit, message }) => {
			log(`END ${exit} ${message}`);
			key.fill(0); vmSecret.fill(0); vmFile.secret.fill(0);
			gw.close();
			process.stdout.write('', () => process.exit(exit));
		},
	});
	const wsOptions = { ca: opt('--ca') ? readFileSync(opt('--ca')) : undefined, maxPayload: 1 << 20 };
	if (opt('--origin')) wsOptions.origin = opt('--origin');
	gw = connect(WebSocket, opt('--url'), { token: opt('--token'), vm: vmName, armor: flag('--armor'), wsOptions }, {
		ok: () => log('GATEWAY ok'),
		refused: (t) => { log(`GATEWAY refused ${t}`); s.end(6, `the gateway refused: ${t}`); },
		bytes: (b) => (b ? s.feed(b) : s.end(5, 'text message from the gateway during the session')),
		closed: (code) => s.lost(`the gateway connection closed (${code})`),
	});
	const inp = createReadStream(null, { fd: 0 });
	inp.on('data', (d) => s.input(new Uint8Array(d)));
	inp.on('end', () => { stdinEof = true; eofAt = Date.now(); });
	const expectMax = Number(opt('--expect-timeout', '120000'));	// then close anyway: the test fails on its grep
	setInterval(() => {
		if (stdinEof && s.phase === 'open' && (expect ? found || Date.now() - eofAt > expectMax : Date.now() - lastOut >= linger) && gw.buffered === 0) s.close();
	}, 50);
}

// A hostile hop: relays WebSocket messages both ways and, on a line read
// from --ctl ("flip" / "drop" / "dup" / "cut"), hits the next RECORD frame
// from the gateway (decoded with frame.js, re-encoded so only the record
// changes).
function mitm() {
	const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(opt('--listen')) });
	// --arm ACTION[@N]: hit the Nth RECORD from the gateway (default 1st);
	// hello-nocert / hello-cert:FILE rewrite the HELLO's certificate.
	let armed = args.flatMap((a, i) => (args[i - 1] === '--arm' ? [a] : []));
	const hello = armed.filter((a) => a.startsWith('hello-'));
	armed = armed.filter((a) => !a.startsWith('hello-'));
	let nrec = 0;
	const capture = opt('--capture') ? createWriteStream(opt('--capture')) : null;
	const ctl = opt('--ctl');
	if (ctl) {
		const rd = () => createReadStream(ctl).on('data', (d) => { for (const l of String(d).split('\n').filter(Boolean)) { armed.push(l.trim()); log(`armed ${l.trim()}`); } }).on('end', rd);
		rd();
	}
	wss.on('connection', (cws, req) => {
		const up = new WebSocket(opt('--to'), { ca: opt('--ca') ? readFileSync(opt('--ca')) : undefined,
			origin: req.headers.origin });
		const pending = [];
		let authed = false;
		const scan = new HelloScanner();
		let dec = null;	// in the encoding the relay announced
		let inFrames = false;
		up.on('open', () => { for (const m of pending) up.send(m.data, { binary: m.binary }); });
		cws.on('message', (data, binary) => {
			capture?.write(data);
			return up.readyState === 1 ? up.send(data, { binary }) : pending.push({ data, binary });
		});
		up.on('message', (data, binary) => {
			capture?.write(data);
			if (!binary || !authed) { authed = authed || String(data) === 'OK'; cws.send(data, { binary }); return; }
			let b = new Uint8Array(data), out = [];
			if (!inFrames) {
				const r = scan.push(b);
				out.push(r.clear);
				if (!r.found) { cws.send(Buffer.concat(out.map((x) => Buffer.from(x)))); return; }
				out.push(MAGIC, Uint8Array.of(scan.encoding.charCodeAt(0)));
				dec = new FrameDecoder(scan.encoding);
				inFrames = true; b = r.rest;
			}
			for (const f of dec.push(b)) {
				if (f.type === FRAME.HELLO && hello.length) {
					const h = parseHello(f.body);
					for (const a of hello) h.cert = a === 'hello-nocert' ? new Uint8Array(0) : new Uint8Array(readFileSync(a.slice('hello-cert:'.length)));
					log(`hit ${hello.join(' ')}`);
					f.body = encodeHello(h);
				}
				let act = null;
				if (f.type === FRAME.RECORD && armed.length) {
					nrec++;
					const [a, n] = armed[0].split('@');
					if (nrec >= Number(n ?? 1)) { act = a; armed.shift(); nrec = 0; }
				}
				if (act) log(`hit ${act} RECORD of ${f.body.length} bytes`);
				if (act === 'flip') f.body[f.body.length >> 1] ^= 0x04;
				if (act === 'drop') continue;
				if (act === 'cut') { cws.send(Buffer.concat(out.map((x) => Buffer.from(x)))); cws.terminate(); up.terminate(); return; }
				out.push(encodeFrame(f.type, f.body, scan.encoding));
				if (act === 'dup') out.push(encodeFrame(f.type, f.body, scan.encoding));
			}
			cws.send(Buffer.concat(out.map((x) => Buffer.from(x))));
		});
		up.on('close', () => cws.close());
		cws.on('close', () => up.close());
		up.on('error', () => cws.terminate());
		cws.on('error', () => up.terminate());
	});
	wss.on('listening', () => log(`mitm listening on ${opt('--listen')}`));
}

if (flag('--mitm')) mitm(); else client();
