// bench.js — the web half of tests/bench/web-rtt.
//
//   --client page (default): log in to vm1 in headless chromium, then N
//   keystrokes through xterm.js's input path (term.input, what a key event
//   produces), each timed until the guest's echo comes back through the
//   session (performance.now() in the page).  Prints "web_rtt_ms median p90"
//   and the split "web_split_ms in=.. net=.. out=.." (medians): keystroke ->
//   WebSocket.send returned (xterm.js, seal, framing), send -> the echo's
//   message event (browser network stack, TLS, gateway, consoled, hv),
//   message event -> the echo handed to xterm.js (open, deframe).
//
//   --client node: the same session code (client.js) in Node over the `ws`
//   package through the same gateway, no browser: prints "node_rtt_ms
//   median p90".  Separates the browser from the gateway and the JS crypto.
//
// Usage: node web-bench.mjs --home DIR --token T --gw URL --host NAME
//        [--client page --file HTML --spki B64 [--chromium PATH] |
//         --client node --ca CA.pem] [-n N]
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'node:net';

const args = process.argv.slice(2);
const opt = (k, d = null) => { const i = args.lastIndexOf(k); return i >= 0 ? args[i + 1] : d; };
const n = Number(opt('-n', '200'));
const gap = Number(opt('--gap', '0'));
const pct = (a, p) => a[Math.min(a.length - 1, Math.floor(a.length * p))];
const sorted = (a) => [...a].sort((x, y) => x - y);
// median p90 p10 (ms): under other jobs' load the p10 is closer to the path's own cost.
const fmt = (a) => { const s = sorted(a); return `${pct(s, 0.5).toFixed(3)} ${pct(s, 0.9).toFixed(3)} ${pct(s, 0.1).toFixed(3)}`; };

// Time each keystroke until its echo; type(ch) sends, hook(fn) sees output.
// After every 20 characters the line is erased (^U) so it stays short.
async function measure(count, type, setHook, sleep, gap) {
	const out = [];
	for (let i = 0; i < count; i++) {
		if (gap > 0) await sleep(gap);
		const ch = String.fromCharCode(97 + (i % 26));
		const got = new Promise((res) => setHook((b) => { if (b.includes(ch.charCodeAt(0))) res(); }));
		const t0 = performance.now();
		type(ch);
		await got;
		out.push(performance.now() - t0);
		if (i % 20 === 19) { setHook(null); type('\x15'); await sleep(50); }
	}
	return out;
}

// ---- Transport floor: 64-byte binary messages echoed, no SCCrypt code ----
// --serve-echo PORT --cert C --key K: a wss:// echo server (Node, `ws`)
// that answers the first text message "OK" (as the gateway does) and echoes
// every binary message.  --serve-unix-echo PATH: a stand-in for consoled's
// socket behind the real gateway: reads the request line, answers
// "OK framed", echoes every byte.  Both run as their own process, so a
// round trip crosses the same process boundaries as the real path.
async function serveEcho() {
	const { WebSocketServer } = await import('ws');
	const { createServer } = await import('node:https');
	const srv = createServer({ cert: readFileSync(opt('--cert')), key: readFileSync(opt('--key')) });
	const wss = new WebSocketServer({ server: srv, perMessageDeflate: false });
	wss.on('connection', (ws, req) => {
		req.socket.setNoDelay(true);
		ws.on('message', (d, binary) => ws.send(binary ? d : 'OK', { binary }));
	});
	srv.listen(Number(opt('--serve-echo')), '127.0.0.1', () => console.error('echo listening'));
}
async function serveUnixEcho() {
	const { createServer } = await import('node:net');
	createServer((c) => {
		let line = true;
		c.on('data', (d) => {
			if (line) {
				const nl = d.indexOf(10);
				if (nl < 0) return;
				line = false;
				c.write('OK framed\n');
				d = d.subarray(nl + 1);
			}
			if (d.length) c.write(d);
		});
		c.on('error', () => {});
	}).listen(opt('--serve-unix-echo'), () => console.error('unix echo listening'));
}
// The echo round trip: batches of ECHO_BATCH back-to-back round trips, each
// batch timed as a whole (the page's clock is coarsened to 0.1 ms; a batch of
// 10 gives 10 us resolution per round trip), median and p90 over batches.
const ECHO_BATCH = 10;
async function echoLoop(count, url, token, WS, wsOptions) {
	const ws = wsOptions ? new WS(url, wsOptions) : new WS(url);
	ws.binaryType = 'arraybuffer';
	let waiter = null;
	ws.onmessage = (ev) => { const w = waiter; waiter = null; w?.(ev.data); };
	const next = () => new Promise((res) => { waiter = res; });
	await new Promise((res, rej) => { ws.onopen = res; ws.onerror = () => rej(new Error('ws error')); });
	if (token) {
		const r = next();
		ws.send(`SCCRYPT-WEB/1 ${token} vm1`);
		if ((await r) !== 'OK') throw new Error('refused');
	}
	const msg = new Uint8Array(64).fill(0x41);
	for (let i = 0; i < 50; i++) { const r = next(); ws.send(msg); await r; }	// warm up
	const out = [];
	for (let b = 0; b < Math.ceil(count / ECHO_BATCH); b++) {
		const t0 = performance.now();
		for (let i = 0; i < ECHO_BATCH; i++) { const r = next(); ws.send(msg); await r; }
		out.push((performance.now() - t0) / ECHO_BATCH);
	}
	ws.close();
	return out;
}
// Voluntary context switches (a thread blocked, to be woken later) of every
// thread of a process tree: the client's thread hand-offs per round trip,
// a count that other jobs' load hardly changes (unlike the time each
// hand-off takes: a wake-up waits for a CPU).
function treeSwitches(root) {
	const kids = new Map();
	for (const d of readdirSync('/proc')) {
		if (!/^\d+$/.test(d)) continue;
		try {
			const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
			if (!kids.has(ppid)) kids.set(ppid, []);
			kids.get(ppid).push(Number(d));
		} catch { /* gone */ }
	}
	let sum = 0;
	const walk = (pid) => {
		try {
			for (const t of readdirSync(`/proc/${pid}/task`)) {
				const st = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
				sum += Number(st.match(/^voluntary_ctxt_switches:\s+(\d+)/m)?.[1] ?? 0);
			}
		} catch { /* gone */ }
		for (const c of kids.get(pid) ?? []) walk(c);
	};
	walk(root);
	return sum;
}
async function echoNode(label) {
	const { default: WebSocket } = await import('ws');
	const before = treeSwitches(process.pid);
	const r = await echoLoop(n, opt('--url'), opt('--token'), WebSocket,
		{ ca: readFileSync(opt('--ca')), origin: 'null', perMessageDeflate: false });
	const sw = (treeSwitches(process.pid) - before) / (r.length * ECHO_BATCH + 50);
	console.log(`${label} ${fmt(r)} switches/rt=${sw.toFixed(1)}`);
	process.exit(0);
}
async function launch() {
	const { default: puppeteer } = await import('puppeteer-core');
	return puppeteer.launch({ executablePath: opt('--chromium', '/usr/bin/chromium'),
		headless: true, args: ['--no-sandbox', '--disable-gpu', ...(opt('--chromium-args') ?? '').split(' ').filter(Boolean), `--ignore-certificate-errors-spki-list=${opt('--spki')}`] });
}
async function echoPage(label) {
	const browser = await launch();
	try {
		const pg = await browser.newPage();
		await pg.goto('file://' + opt('--file'));	// the page's own origin and CSP
		const root = browser.process().pid, before = treeSwitches(root);
		const r = await pg.evaluate(async (src, count, url, token) => {
			// eslint-disable-next-line no-new-func
			const loop = new Function(`const ECHO_BATCH = ${10}; return (${src})`)();
			return loop(count, url, token, WebSocket, null);
		}, echoLoop.toString(), n, opt('--url'), opt('--token'));
		// Includes the browser's own background work over the loop's time
		// (small next to the hand-offs: the idle rate is printed apart).
		const sw = (treeSwitches(root) - before) / (r.length * ECHO_BATCH + 50);
		const idle0 = treeSwitches(root);
		await new Promise((res) => setTimeout(res, 500));
		const idle = (treeSwitches(root) - idle0) * 2;
		console.log(`${label} ${fmt(r)} switches/rt=${sw.toFixed(1)} idle_switches/s=${idle}`);
	} finally {
		await browser.close();
	}
}

async function page() {
	const { default: puppeteer } = await import('puppeteer-core');
	const browser = await puppeteer.launch({ executablePath: opt('--chromium', '/usr/bin/chromium'),
		headless: true, args: ['--no-sandbox', '--disable-gpu', ...(opt('--chromium-args') ?? '').split(' ').filter(Boolean), `--ignore-certificate-errors-spki-list=${opt('--spki')}`] });
	try {
		const pg = await browser.newPage();
		// Timestamps at the WebSocket boundary (for the split only; the
		// page's own code is unchanged).
		await pg.evaluateOnNewDocument(() => {
			const t = (window.__wsT = { send: 0, recv: 0 });
			const P = WebSocket.prototype, send = P.send;
			P.send = function (d) { const r = send.call(this, d); t.send = performance.now(); return r; };
			const d = Object.getOwnPropertyDescriptor(P, 'onmessage');
			Object.defineProperty(P, 'onmessage', { configurable: true, get: d.get,
				set(fn) { d.set.call(this, (ev) => { t.recv = performance.now(); return fn(ev); }); } });
		});
		await pg.goto('file://' + opt('--file'));
		for (const [id, v] of [['gw', opt('--gw')], ['token', opt('--token')], ['host', opt('--host')], ['vm', 'vm1']])
			await pg.$eval(`#${id}`, (el, val) => { el.value = val; }, v);
		const home = opt('--home');
		await (await pg.$('#keyfile')).uploadFile(join(home, 'id_x25519'));
		await (await pg.$('#vmfile')).uploadFile(join(home, 'vms', 'vm1'));
		await (await pg.$('#ksfile')).uploadFile(join(home, 'keyserver.pub'));
		await pg.click('#connect');
		await pg.waitForFunction(() => document.getElementById('state').textContent === 'encrypted', { timeout: 60000 });
		const r = await pg.evaluate(async (count, measureSrc, gap) => {
			// eslint-disable-next-line no-new-func
			const measureFn = new Function(`return (${measureSrc})`)();
			const split = { in: [], net: [], out: [], parsed: [] };
			let t0 = 0, cur = -1;
			const type = (ch) => { t0 = performance.now(); cur = ch.charCodeAt(0); window.__sccryptType(ch); };
			const setHook = (fn) => {
				window.__sccryptOutHook = fn && ((b) => {
					const t = performance.now(), w = window.__wsT;
					if (w.send >= t0 && w.recv >= w.send) {
						split.in.push(w.send - t0); split.net.push(w.recv - w.send); split.out.push(t - w.recv);
					}
					fn(b);
				});
			};
			// Parsed into xterm.js's buffer (its write callback; right after
			// user input xterm.js parses synchronously, inside write()).
			window.__sccryptWrittenHook = (b) => { if (cur >= 0 && b.includes(cur)) { split.parsed.push(performance.now() - t0); cur = -1; } };
			const rtt = await measureFn(count, type, setHook, (ms) => new Promise((res) => setTimeout(res, ms)), gap);
			window.__sccryptWrittenHook = null;
			return { rtt, split };
		}, n, measure.toString(), gap);
		// The page's clock is coarsened to 0.1 ms with jitter: the mean of
		// many samples resolves the small stages, the median does not.
		const mean = (a) => (a.reduce((x, y) => x + y, 0) / Math.max(1, a.length)).toFixed(3);
		console.log(`web_rtt_ms ${fmt(r.rtt)}`);
		console.log(`web_parsed_rtt_ms ${fmt(r.split.parsed)}`);
		console.log(`web_split_ms in=${mean(r.split.in)} net=${mean(r.split.net)} out=${mean(r.split.out)} (means)`);
		// Real key events: CDP Input.dispatchKeyEvent -> the renderer's
		// keydown (its event.timeStamp) -> xterm.js -> WebSocket.send ...
		// -> the echo handed to xterm.js, all timed in the page.
		await pg.evaluate(() => {
			window.__kd = null; window.__keyRes = [];
			document.addEventListener('keydown', (ev) => { window.__kd = ev.timeStamp; }, true);
			window.__sccryptOutHook = (b) => {
				const t = performance.now(), kd = window.__kd;
				if (kd !== null && b.includes(window.__want)) {
					window.__keyRes.push({ rtt: t - kd, toSend: window.__wsT.send - kd });
					window.__kd = null;
				}
			};
		});
		const nk = Math.min(n, 100);
		for (let i = 0; i < nk; i++) {
			const ch = String.fromCharCode(97 + (i % 26));
			await pg.evaluate((c) => { window.__want = c; }, ch.charCodeAt(0));
			await pg.keyboard.press(ch);
			await pg.waitForFunction((k) => window.__keyRes.length > k, { polling: 2, timeout: 10000 }, i);
			if (i % 20 === 19) await pg.evaluate(() => window.__sccryptType('\x15'));
		}
		const kr = await pg.evaluate(() => window.__keyRes);
		console.log(`web_key_rtt_ms ${fmt(kr.map((x) => x.rtt))}`);
		console.log(`web_key_split_ms keydown->send=${mean(kr.map((x) => x.toSend))} (mean)`);
	} finally {
		await browser.close();
	}
}

// --unix SOCKET: straight to consoled's socket as sccrypt-console's shim
// does (its request line, binary encoding), without the gateway.
function direct(path, s) {
	const sock = createConnection(path);
	let line = '';
	sock.setNoDelay?.(true);
	sock.write('SCCRYPT/1 console vm1 B\n');
	sock.on('data', (d) => {
		if (line !== null) {
			const nl = d.indexOf(10);
			if (nl < 0) { line += d.toString('latin1'); return; }
			line += d.subarray(0, nl).toString('latin1');
			if (line !== 'OK framed') { s.end(6, line); return; }
			line = null;
			d = d.subarray(nl + 1);
			if (!d.length) return;
		}
		s.feed(new Uint8Array(d.buffer, d.byteOffset, d.length));
	});
	sock.on('close', () => s.lost('closed'));
	return { send: (b) => sock.write(b), close: () => sock.destroy() };
}

async function node() {
	const { default: WebSocket } = await import('ws');
	const { Session } = await import('../src/client.js');
	const { connect } = await import('../src/gateway.js');
	const { KIND, readKeyFile, decodeVmFile, parsePubkeyText } = await import('../src/keys.js');
	const home = opt('--home');
	const key = readKeyFile(readFileSync(join(home, 'id_x25519'), 'utf8'), KIND.USER, '');
	const vmFile = decodeVmFile(readKeyFile(readFileSync(join(home, 'vms', 'vm1'), 'utf8'), KIND.VM, ''));
	const ksPub = parsePubkeyText('sccrypt-ed25519', readFileSync(join(home, 'keyserver.pub'), 'utf8'));
	let hook = null, gw, opened;
	const isOpen = new Promise((res) => { opened = res; });
	const s = new Session({ vm: 'vm1', host: opt('--host'), consoleKey: key, vmFile, ksPub }, {
		send: (b) => gw.send(b), clear: () => {}, notice: () => {}, tofu: () => false,
		output: (b) => hook?.(b),
		state: (st) => { if (st === 'encrypted') opened(); },
		end: ({ exit, message }) => { console.error(`END ${exit} ${message}`); process.exit(exit); },
	});
	if (opt('--unix')) gw = direct(opt('--unix'), s);
	else gw = connect(WebSocket, opt('--gw'), { token: opt('--token'), vm: 'vm1',
		wsOptions: { ca: readFileSync(opt('--ca')), origin: 'null' } }, {
		ok: () => {}, refused: (t) => s.end(6, t), bytes: (b) => s.feed(b), closed: (c) => s.lost(`closed ${c}`),
	});
	await isOpen;
	const enc = new TextEncoder();
	const rtt = await measure(n, (ch) => s.input(enc.encode(ch)), (fn) => { hook = fn; },
		(ms) => new Promise((res) => setTimeout(res, ms)), gap);
	console.log(`${opt('--unix') ? 'direct' : 'node'}_rtt_ms ${fmt(rtt)}`);
	s.close();
	await new Promise((res) => setTimeout(res, 500));
	process.exit(0);
}

const mode = opt('--client', 'page');
if (args.includes('--serve-echo')) await serveEcho();
else if (args.includes('--serve-unix-echo')) await serveUnixEcho();
else if (mode === 'echo-node') await echoNode(opt('--label', 'echo_node_rtt_ms'));
else if (mode === 'echo-page') await echoPage(opt('--label', 'echo_page_rtt_ms'));
else await (mode === 'node' ? node() : page());
