// browser.js — the web console in Debian's chromium (headless, driven over
// the DevTools protocol by puppeteer-core) against the real stack.
// Scenarios (each prints "ok: ..." or "FAIL: ..."; exit 1 on a failure):
//   login     the page served by `sccrypt-term web` (one-time URL): keys
//             loaded from files, a command typed into xterm.js runs in vm1
//             and its output is read back from the terminal; screenshot
//   paste     1 MiB pasted through xterm.js arrives intact (sha256 in guest)
//   restart   the gateway is killed and restarted: the page reconnects with
//             a new handshake and works again
//   tamper    through a hostile hop: one record flipped -> TAMPERED state,
//             the forged record's text never shown
//   armored   the page with enc=A: the gateway asks consoled for the
//             armored encoding; a command runs
//   nocert / expired   withheld or expired VMM certificate -> refused
//   passphrase         wrong passphrase refused in the page; right one opens
// Options: --url PAGE_URL --file HTML --home DIR --enc-home DIR --pass P
//   --token T --gw wss://... --host NAME --spki B64 --hop ws://... (tamper)
//   --hop-nocert ws://... --hop-expired ws://... --shot PNG
//   --gate-pidfile F --gate-restart-fifo F
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const args = process.argv.slice(2);
const opt = (k, d = null) => { const i = args.lastIndexOf(k); return i >= 0 ? args[i + 1] : d; };
let failed = 0, passed = 0;
const ok = (m) => { passed++; console.log(`ok: ${m}`); };
const bad = (m) => { failed++; console.log(`FAIL: ${m}`); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await puppeteer.launch({
	executablePath: opt('--chromium', '/usr/bin/chromium'), headless: true,
	args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
		`--ignore-certificate-errors-spki-list=${opt('--spki')}`, '--window-size=1100,700'],
	defaultViewport: { width: 1100, height: 700 },
});

async function waitFor(page, fn, arg, ms, what) {
	try {
		await page.waitForFunction(fn, { timeout: ms, polling: 100 }, arg);
		return true;
	} catch {
		const st = await page.evaluate(() => [document.getElementById('state').textContent,
			document.getElementById('notices').textContent.slice(-800)]).catch(() => ['?', '?']);
		bad(`${what}: timed out (state "${st[0]}", notices: ${st[1].replace(/\n/g, ' | ')})`);
		return false;
	}
}
const stateIs = (s) => document.getElementById('state').textContent.startsWith(s);
const termHas = (s) => window.__sccryptText().includes(s);
const noticeHas = (s) => document.getElementById('notices').textContent.includes(s);

async function open(url, { home = opt('--home'), pass = '', gw = opt('--gw'), ks = true } = {}) {
	const page = await browser.newPage();
	page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
	await page.goto(url);
	const set = async (id, v) => page.$eval(`#${id}`, (el, val) => { el.value = val; }, v);
	await set('gw', gw);
	await set('token', opt('--token'));
	await set('host', opt('--host'));
	await set('vm', 'vm1');
	await set('pass', pass);
	await (await page.$('#keyfile')).uploadFile(join(home, 'id_x25519'));
	await (await page.$('#vmfile')).uploadFile(join(home, 'vms', 'vm1'));
	if (ks) await (await page.$('#ksfile')).uploadFile(join(home, 'keyserver.pub'));
	await page.click('#connect');
	return page;
}
// Type a line into the terminal with real key events; wait for the marker.
async function run(page, cmd, marker, ms = 20000) {
	await page.focus('#term textarea');
	await page.keyboard.type(`${cmd}\n`, { delay: 5 });
	return waitFor(page, termHas, marker, ms, `output ${marker}`);
}

try {
	// login: the one-time URL from sccrypt-term web (origin http://127.0.0.1:PORT)
	const p1 = await open(opt('--url'));
	if (await waitFor(p1, stateIs, 'encrypted', 30000, 'login: encrypted state')) {
		const t0 = Date.now();
		if (await run(p1, 'echo B$((20+22))R', 'B42R')) {
			ok(`login via sccrypt-term web; command ran in vm1, output read from xterm.js (${Date.now() - t0} ms)`);
			await p1.screenshot({ path: opt('--shot') });
			ok(`screenshot ${opt('--shot')}`);
		}
		// the one-time URL is spent
		const again = await browser.newPage();
		const r = await again.goto(opt('--url')).catch(() => null);
		if (r && r.status() === 200) bad('the one-time page URL served twice'); else ok('the one-time URL is spent');
		await again.close();

		// paste: 1 MiB through xterm.js's paste, checked in the guest
		const lines = [];
		let size = 0;
		while (size < 1048576) { const l = randomBytes(57).toString('base64'); lines.push(l); size += l.length + 1; }
		const text = lines.join('\n') + '\n';
		const sum = createHash('sha256').update(text).digest('hex');
		// The command line's own echo shows it reached the shell (stty -echo
		// then keeps the 1 MiB from being echoed back; the tty buffers it).
		await run(p1, `stty -echo; head -c ${text.length} | sha256sum | sed 's/^/SUM=/'; stty echo`, 'stty echo');
		const t1 = Date.now();
		await p1.evaluate((s) => window.__sccryptPaste(s), text);
		if (await waitFor(p1, termHas, `SUM=${sum}`, 120000, '1 MiB paste checksum'))
			ok(`${text.length}-byte paste arrived intact (sha256 ${sum.slice(0, 16)}..., ${Date.now() - t1} ms)`);

		// restart: kill the gateway, start it again; the page reconnects
		process.kill(Number(readFileSync(opt('--gate-pidfile'), 'utf8')), 'SIGTERM');
		if (await waitFor(p1, noticeHas, 'reconnecting', 20000, 'restart: the page noticed the drop')) {
			writeFileSync(opt('--gate-restart-fifo'), 'start\n');
			if (await waitFor(p1, stateIs, 'encrypted', 60000, 'restart: encrypted again') &&
			    await run(p1, 'echo A$((7*6))G', 'A42G'))
				ok('gateway killed and restarted: the page reconnected (new handshake) and works');
		}
		await p1.close();
	}

	// armored: the page asks for the armored encoding (enc=A in the URL
	// fragment ticks "armored encoding") and follows the HELLO's encoding
	// (before the tamper scenario, which leaves a half-typed line in the guest)
	const pa = await open('file://' + opt('--file') + '#enc=A');
	if (await waitFor(pa, stateIs, 'encrypted', 30000, 'armored: encrypted state')) {
		const box = await pa.$eval('#armor', (el) => el.checked);
		if (box && await run(pa, 'echo M$((6*7))A', 'M42A')) ok('armored encoding: the page logged in and a command ran (M42A)');
		else if (!box) bad('armored: enc=A did not tick the box');
	}
	await pa.close();

	// tamper: the 2nd record from the gateway is flipped by the hop
	const p2 = await open('file://' + opt('--file'), { gw: opt('--hop') });
	if (await waitFor(p2, stateIs, 'encrypted', 30000, 'tamper: encrypted state')) {
		await p2.focus('#term textarea');
		await p2.keyboard.type('echo X$((5+5))Y\n', { delay: 5 });
		if (await waitFor(p2, stateIs, 'TAMPERED', 20000, 'tamper: TAMPERED state')) {
			await sleep(500);
			const text = await p2.evaluate(() => window.__sccryptText());
			const st = await p2.evaluate(() => document.getElementById('state').textContent);
			if (text.includes('X10Y')) bad('tamper: output after the tampered record was shown');
			else ok(`tampered record: state "${st}", no forged output`);
		}
	}
	await p2.close();

	// withheld and expired certificates
	for (const [what, hop, msg] of [['withheld', opt('--hop-nocert'), 'withheld the VMM certificate'],
		['expired', opt('--hop-expired'), 'certificate is expired']]) {
		const p = await open('file://' + opt('--file'), { gw: hop });
		if (await waitFor(p, noticeHas, msg, 30000, `${what} certificate refused`)) {
			const st = await p.evaluate(() => [document.getElementById('state').textContent, window.__sccrypt]);
			if (st[1]?.exit === 4 && st[0] === 'closed') ok(`${what} certificate: refused (exit 4, state closed)`);
			else bad(`${what} certificate: ${JSON.stringify(st)}`);
		}
		await p.close();
	}

	// passphrase: an encrypted keystore (Argon2id in the page)
	const wrong = await open('file://' + opt('--file'), { home: opt('--enc-home'), pass: 'not the passphrase' });
	if (await waitFor(wrong, noticeHas, 'wrong passphrase', 120000, 'wrong passphrase'))
		ok('wrong passphrase: refused in the page, nothing sent');
	await wrong.close();
	const right = await open('file://' + opt('--file'), { home: opt('--enc-home'), pass: opt('--pass') });
	if (await waitFor(right, () => window.__sccrypt && window.__sccrypt.exit === 4, null, 120000, 'right passphrase'))
		ok('right passphrase: keys decrypted in the page; the hv refused a key outside the ACL (exit 4)');
	await right.close();
} catch (err) {
	bad(`exception: ${err.stack}`);
} finally {
	await browser.close();
}
console.log(`${passed} passed, ${failed} failed, 0 skipped`);
process.exit(failed ? 1 : 0);
