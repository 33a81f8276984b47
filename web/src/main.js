// main.js — the page: the login form, xterm.js, the state banner and the
// menu, around client.js (the protocol) and gateway.js (the WebSocket).
// Secrets (console key, VM secret) are decrypted in the page and live only
// in JS memory (Uint8Arrays) for as long as the page is open, so that a
// reconnect does not ask again; they are wiped on close and on pagehide.
// They are not wrapped by a WebCrypto key: the Noise and record code needs
// the raw bytes (WebCrypto has no ChaCha20-Poly1305 and no BLAKE2b), so a
// non-extractable wrapping key would be unwrapped into the same memory at
// every handshake and protect nothing.  See docs/web.md.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { Session } from './client.js';
import { connect } from './gateway.js';
import { KIND, readKeyFile, decodeVmFile, parsePubkeyText, keyFileEncrypted } from './keys.js';
import { enc, wipe } from './bytes.js';

const $ = (id) => document.getElementById(id);
const ui = { state: $('state'), where: $('where'), clear: $('clear'), notices: $('notices'),
	menu: $('menu'), login: $('login') };
const STATES = {
	clear: ['clear', 'NOT encrypted (dom0 clear text)'], handshake: ['clear', 'NOT encrypted (handshake…)'],
	encrypted: ['enc', 'encrypted'], closing: ['enc', 'encrypted (closing…)'],
	tampered: ['tampered', 'TAMPERED — session closed'], closed: ['closed', 'closed'],
};
const term = new Terminal({ scrollback: 10000, fontSize: 14, allowProposedApi: false });
const fit = new FitAddon();
term.loadAddon(fit);
term.open($('term'));
fit.fit();
window.addEventListener('resize', () => fit.fit());

let keys = null;	// {consoleKey, vmFile, ksPub}
let session = null, gw = null, params = null, reconnects = 0, userClosed = false, wasOpen = false;
const RECONNECT_MAX = 10;

function setState(s) {
	if (s === 'encrypted') { wasOpen = true; reconnects = 0; }
	const [cls, text] = STATES[s] ?? ['closed', s];
	if (ui.state.classList.contains('tampered') && s === 'closed') return;	// keep the alarm
	ui.state.className = cls;
	ui.state.textContent = text;
	document.title = `SCCrypt ${params?.vm ?? ''}: ${text}`;
	ui.menu.disabled = s !== 'encrypted';
}
function notice(t) { ui.notices.textContent += `[sccrypt] ${t}\n`; ui.notices.scrollTop = 1e9; }
function clearText(b) {
	// Inert: a text node (no markup, no terminal), controls made visible.
	const s = new TextDecoder().decode(b).replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `^${String.fromCharCode(c.charCodeAt(0) ^ 0x40)}`);
	ui.clear.append(document.createTextNode(s));
}
const readText = (input) => (input.files[0] ? input.files[0].text() : Promise.resolve(null));

// Prefill from the URL fragment (sccrypt-term web): never sent to a server.
for (const [k, v] of new URLSearchParams(location.hash.slice(1))) {
	if (k === 'gw') $('gw').value = v;
	if (k === 'vm') $('vm').value = v;
	if (k === 'host') $('host').value = v;
	if (k === 'enc') $('armor').checked = v === 'A';
}

async function loadKeys() {
	const pass = $('pass').value;
	const [keyText, vmText, ksText] = await Promise.all([readText($('keyfile')), readText($('vmfile')), readText($('ksfile'))]);
	if (!keyText || !vmText) throw new Error('choose the console key and the VM file');
	notice(keyFileEncrypted(keyText) || keyFileEncrypted(vmText) ? 'deriving the key file keys (Argon2id)…' : 'reading the key files…');
	await new Promise((r) => setTimeout(r, 20));
	const consoleKey = readKeyFile(keyText, KIND.USER, pass);
	const vmSecret = readKeyFile(vmText, KIND.VM, pass);
	const vmFile = decodeVmFile(vmSecret);
	wipe(vmSecret);
	const ksPub = ksText ? parsePubkeyText('sccrypt-ed25519', ksText) : null;
	$('pass').value = '';
	return { consoleKey, vmFile, ksPub };
}

function start() {
	userClosed = false;
	const p = params;
	ui.where.textContent = `${p.vm} @ ${p.host || new URL(p.gw).hostname}`;
	session = new Session({ vm: p.vm, host: p.host || new URL(p.gw).hostname, consoleKey: keys.consoleKey,
		vmFile: keys.vmFile, ksPub: keys.ksPub, trustFp: p.trustFp || null, viewer: p.viewer,
		takeover: p.takeover, history: reconnects > 0 ? 65536 : 0 }, {
		send: (b) => gw.send(b),
		clear: clearText,
		// The hooks are the benchmark's (tests/bench/web-rtt): handed to
		// xterm.js, and parsed into its buffer (the write callback).
		output: (b) => { const w = window.__sccryptWrittenHook; term.write(b, w && (() => w(b))); window.__sccryptOutHook?.(b); },
		notice,
		state: setState,
		tofu: (fp) => window.confirm(`No key server is pinned. Trust the hypervisor key ${fp} for this session?`),
		end: ({ exit, message }) => {
			notice(`${message} (exit ${exit})`);
			gw.close();
			// Reconnect after the network or the gateway dropped (never after
			// tampering, a refusal or the user's close): a new handshake.
			const dropped = (exit === 5 && /without the hypervisor's CLOSE/.test(message)) ||
				(exit === 3 && reconnects > 0);
			if (!userClosed && wasOpen && dropped && reconnects < RECONNECT_MAX) {
				reconnects++;
				notice(`reconnecting (${reconnects})…`);
				setTimeout(start, Math.min(1000 * reconnects, 5000));
			}
			window.__sccrypt = { exit, message };
		},
	});
	gw = connect(WebSocket, p.gw, { token: p.token, vm: p.vm, armor: p.armor }, {
		ok: () => notice('gateway: authenticated'),
		refused: (t) => session.end(6, `the gateway refused (dom0, not authenticated): ${t}`),
		bytes: (b) => (b ? session.feed(b) : session.end(5, 'text from the gateway during the session')),
		closed: (code) => session.lost(`the gateway connection closed (${code})`),
	});
	window.__sccrypt = null;
}

$('login').addEventListener('submit', async (ev) => {
	ev.preventDefault();
	try {
		keys = await loadKeys();
	} catch (err) {
		notice(`cannot open the key files: ${err.code === 'SC_ERR_PASSPHRASE' ? 'wrong passphrase' : err.message}`);
		window.__sccrypt = { exit: 1, message: err.message };
		return;
	}
	params = { gw: $('gw').value, token: $('token').value, vm: $('vm').value, host: $('host').value,
		trustFp: $('trustfp').value.trim(), viewer: $('viewer').checked, takeover: $('takeover').checked,
		armor: $('armor').checked };
	$('token').value = '';
	ui.login.classList.add('hidden');
	fit.fit();
	term.focus();
	start();
});

// Keystrokes and paste (any length: split into records by the session).
term.onData((d) => session?.input(enc.encode(d)));
term.onBinary((d) => session?.input(Uint8Array.from(d, (c) => c.charCodeAt(0))));

ui.menu.addEventListener('change', async () => {
	const v = ui.menu.value;
	ui.menu.value = '';
	if (!session) return;
	if (v === 'break') session.sendBreak(0);
	if (v === 'sysrq') { const k = window.prompt('SysRq key (e.g. h, s, u, b):'); if (k) session.sendBreak(k.charCodeAt(0)); }
	if (v === 'rekey') { session.rekey(); notice('rekeyed'); }
	if (v === 'history') { const n = Number(window.prompt('bytes of history to replay:', '65536')); if (n > 0) session.requestHistory(n); }
	if (v === 'copy') await navigator.clipboard?.writeText(term.getSelection());
	if (v === 'font+' || v === 'font-') { term.options.fontSize += v === 'font+' ? 1 : -1; fit.fit(); }
	if (v === 'close') { userClosed = true; session.close(); }
	term.focus();
});

function wipeAll() {
	session?.wipe();
	if (keys) { wipe(keys.consoleKey, keys.vmFile.secret); keys = null; }
}
window.addEventListener('pagehide', wipeAll);
// For the tests and the benchmark: the terminal's text, and the state.
window.__sccryptText = () => {
	const b = term.buffer.active, out = [];
	for (let i = 0; i < b.length; i++) out.push(b.getLine(i)?.translateToString(true) ?? '');
	return out.join('\n');
};
window.__sccryptPaste = (s) => term.paste(s);
// The keystroke path without the DOM key event (benchmark: tests/bench/web-rtt).
window.__sccryptType = (s) => term.input(s, true);
