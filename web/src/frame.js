// frame.js — the byte stream of PROTOCOL.md §3: the HELLO scanner, frames
// in the binary (`B`) encoding, and the HELLO and ERROR bodies.  The JS
// twin of lib/core/frame.c for what the web client needs (it always asks
// the gateway for `B`; the armored encoding exists for 7-bit transports,
// which a WebSocket is not).
//
// Contract: HelloScanner.push(chunk) -> {clear: Uint8Array, found: bool,
// rest: Uint8Array}; FrameDecoder.push(chunk) -> array of {type, body}
// (throws ScError, sticky); encodeFrame(type, body) -> bytes.
import { Reader, Writer, concat, printable } from './bytes.js';
import { E, ScError, fail } from './errors.js';

export const MAGIC = Uint8Array.from([0x0d, 0x0a, ...new TextEncoder().encode(':SCCRYPT:')]);
export const FRAME = Object.freeze({ HELLO: 1, HS_INIT: 2, HS_RESP: 3, RECORD: 4, ERROR: 5,
	PROTECT: 6, PROTECT_OK: 7, BYE: 8 });
export const FRAME_BODY_MAX = 8192;
export const PROTOCOL_VERSION = 2;
export const HELLO_F_PROTECTED = 0x01, HELLO_F_VIEWER = 0x02;
export const VMNAME_MAX = 64, CERT_MAX = 1024, ERRMSG_MAX = 200;
const STUFF = new Set([0x10, 0x11, 0x13, 0x1d, 0x7e]);
const DLE = 0x10;

// §3.1: finds MAGIC followed by 'B' or 'A'; never loses, duplicates or
// reorders a byte.  held = length of the magic prefix matched so far.
export class HelloScanner {
	constructor() { this.held = 0; this.found = false; this.encoding = null; }
	push(chunk) {
		if (this.found) fail(E.STATE, 'HELLO already found');
		const clear = [];
		for (let i = 0; i < chunk.length; i++) {
			let c = chunk[i];
			for (;;) {
				if (this.held < MAGIC.length) {
					if (c === MAGIC[this.held]) { this.held++; break; }
				} else if (c === 0x42 || c === 0x41) {
					this.found = true; this.encoding = String.fromCharCode(c); this.held = 0;
					return { clear: Uint8Array.from(clear), found: true, rest: chunk.subarray(i + 1) };
				}
				if (this.held === 0) { clear.push(c); break; }
				// Release the held prefix and look at c afresh.
				for (let j = 0; j < this.held; j++) clear.push(MAGIC[j]);
				this.held = 0;
			}
		}
		return { clear: Uint8Array.from(clear), found: false, rest: new Uint8Array(0) };
	}
	flush() { const b = MAGIC.slice(0, this.held); this.held = 0; return b; }
}

export function encodeFrame(type, body) {
	if (type < FRAME.HELLO || type > FRAME.BYE) fail(E.TYPE);
	if (body.length > FRAME_BODY_MAX) fail(E.TOOLONG);
	const raw = concat(Uint8Array.of(type, body.length >> 8, body.length & 0xff), body);
	const out = new Uint8Array(raw.length * 2);
	let o = 0;
	for (const b of raw) {
		if (STUFF.has(b)) { out[o++] = DLE; out[o++] = b ^ 0x20; } else out[o++] = b;
	}
	return out.slice(0, o);
}

// Incremental binary decoder (§3.3.1, §3.3.3): header checked before any
// body byte is stored; errors are sticky.
export class FrameDecoder {
	constructor() { this.err = null; this.reset(); }
	reset() { this.hdr = []; this.body = null; this.fill = 0; this.dle = false; }
	get partial() { return this.dle || this.hdr.length > 0; }
	push(chunk) {
		if (this.err) throw this.err;
		const frames = [];
		try {
			for (const raw of chunk) {
				let b = raw;
				if (this.dle) {
					b ^= 0x20;
					if (!STUFF.has(b)) fail(E.FORMAT, 'bad DLE escape');
					this.dle = false;
				} else if (b === DLE) { this.dle = true; continue; }
				else if (STUFF.has(b)) fail(E.FORMAT, 'unstuffed byte');
				if (this.hdr.length < 3) {
					this.hdr.push(b);
					if (this.hdr.length === 1 && (b < FRAME.HELLO || b > FRAME.BYE)) fail(E.TYPE, `frame type ${b}`);
					if (this.hdr.length === 3) {
						const len = (this.hdr[1] << 8) | this.hdr[2];
						if (len > FRAME_BODY_MAX) fail(E.TOOLONG, 'frame length');
						this.body = new Uint8Array(len); this.fill = 0;
					} else continue;
				} else this.body[this.fill++] = b;
				if (this.hdr.length === 3 && this.fill === this.body.length) {
					frames.push({ type: this.hdr[0], body: this.body });
					this.reset();
				}
			}
		} catch (err) {
			this.err = err instanceof ScError ? err : new ScError(E.FORMAT, String(err));
			this.err.frames = frames;	// the frames completed before the bad byte
			throw this.err;
		}
		return frames;
	}
}

const VMNAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
export function vmnameValid(s) { return s.length >= 1 && s.length <= VMNAME_MAX && VMNAME_RE.test(s); }

// §3.4.  Returns {version, flags, vmname, uuid, hvPub, historyBytes, cert}.
export function parseHello(body) {
	const r = new Reader(body);
	const version = r.u8();
	if (version !== PROTOCOL_VERSION) { const e = new ScError(E.VERSION, `dom0 speaks SCCrypt protocol version ${version}, this client version ${PROTOCOL_VERSION}`); e.version = version; throw e; }
	const flags = r.u8();
	if (flags & ~(HELLO_F_PROTECTED | HELLO_F_VIEWER)) fail(E.FORMAT, 'HELLO flags');
	const nameb = r.str8();
	if (nameb.length > VMNAME_MAX) fail(E.TOOLONG, 'vm name');
	const vmname = String.fromCharCode(...nameb);
	if (!vmnameValid(vmname)) fail(E.FORMAT, 'vm name');
	const uuid = r.bytes(16).slice(), hvPub = r.bytes(32).slice(), historyBytes = r.u32();
	const cert = r.str16().slice();
	if (cert.length > CERT_MAX) fail(E.TOOLONG, 'certificate');
	r.end();
	return { version, flags, vmname, uuid, hvPub, historyBytes, cert };
}
export function encodeHello(h) {
	return new Writer().u8(h.version ?? PROTOCOL_VERSION).u8(h.flags).str8(new TextEncoder().encode(h.vmname))
		.bytes(h.uuid).bytes(h.hvPub).u32(h.historyBytes).str16(h.cert).done();
}
// §3.5: unauthenticated text from dom0, sanitised to printable ASCII.
export function parseError(body) {
	const r = new Reader(body);
	const code = r.u16(), t = r.str8();
	if (t.length > ERRMSG_MAX) fail(E.TOOLONG);
	r.end();
	return { code, text: printable(t) };
}
