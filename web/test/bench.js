// bench.js — the browser half of tests/bench/web-rtt: log in to vm1 in
// headless chromium, then N keystrokes through xterm.js's input path
// (term.input, what a key event produces), each timed until the guest's
// echo comes back through the session (performance.now() in the page).
// Prints "web_rtt_ms median p90" on stdout.
// Usage: node web-bench.mjs --file HTML --home DIR --token T --gw URL
//        --host NAME --spki B64 [--chromium PATH] [-n N]
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const args = process.argv.slice(2);
const opt = (k, d = null) => { const i = args.lastIndexOf(k); return i >= 0 ? args[i + 1] : d; };
const n = Number(opt('-n', '200'));
const browser = await puppeteer.launch({ executablePath: opt('--chromium', '/usr/bin/chromium'),
	headless: true, args: ['--no-sandbox', '--disable-gpu', `--ignore-certificate-errors-spki-list=${opt('--spki')}`] });
try {
	const page = await browser.newPage();
	await page.goto('file://' + opt('--file'));
	for (const [id, v] of [['gw', opt('--gw')], ['token', opt('--token')], ['host', opt('--host')], ['vm', 'vm1']])
		await page.$eval(`#${id}`, (el, val) => { el.value = val; }, v);
	const home = opt('--home');
	await (await page.$('#keyfile')).uploadFile(join(home, 'id_x25519'));
	await (await page.$('#vmfile')).uploadFile(join(home, 'vms', 'vm1'));
	await (await page.$('#ksfile')).uploadFile(join(home, 'keyserver.pub'));
	await page.click('#connect');
	await page.waitForFunction(() => document.getElementById('state').textContent === 'encrypted', { timeout: 60000 });
	const rtts = await page.evaluate(async (count) => {
		const out = [];
		// warm up: one command so the prompt is there
		for (let i = 0; i < count; i++) {
			const ch = String.fromCharCode(97 + (i % 26));
			const got = new Promise((res) => { window.__sccryptOutHook = (b) => { if (b.includes(ch.charCodeAt(0))) res(); }; });
			const t0 = performance.now();
			window.__sccryptType(ch);
			await got;
			out.push(performance.now() - t0);
			if (i % 20 === 19) { window.__sccryptOutHook = null; window.__sccryptType('\x15'); await new Promise((r) => setTimeout(r, 50)); }
		}
		return out;
	}, n);
	rtts.sort((a, b) => a - b);
	console.log(`web_rtt_ms ${rtts[Math.floor(rtts.length / 2)].toFixed(3)} ${rtts[Math.floor(rtts.length * 0.9)].toFixed(3)}`);
} finally {
	await browser.close();
}
