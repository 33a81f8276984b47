// frame.js — the byte stream of PROTOCOL.md §3: the HELLO scanner, frames
// in both encodings (binary `B`, §3.3.1, and armored `A`, §3.3.2), and the
// HELLO and ERROR bodies.  The JS twin of lib/core/frame.c; the decoder
// follows the byte-at-a-time reference tests/fuzz/frame_ref.h (one byte
// in, one decision), and tests/web/xframe.sh checks it against the C
// decoder on the same streams.  Like sccrypt-term, the client speaks the
// encoding dom0 announced after the magic.
//
// Contract: HelloScanner.push(chunk) -> {clear: Uint8Array, found: bool,
// rest: Uint8Array}; new FrameDecoder(encoding).push(chunk) -> array of
// {type, body} (throws ScError, sticky, with .offset = the stream offset of
// the failing byte and .frames = the frames completed before it);
// encodeFrame(type, body, encoding) -> bytes.
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

export const ENC_BINARY = 'B', ENC_ARMOR = 'A';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64V = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64V[B64.charCodeAt(i)] = i;
const EQ = 0x3d, LF = 0x0a, CR = 0x0d, SP = 0x20;

export function encodeFrame(type, body, encoding = ENC_BINARY) {
	if (type < FRAME.HELLO || type > FRAME.BYE) fail(E.TYPE);
	if (body.length > FRAME_BODY_MAX) fail(E.TOOLONG);
	if (encoding !== ENC_BINARY && encoding !== ENC_ARMOR) fail(E.INVAL, 'encoding');
	const raw = concat(Uint8Array.of(type, body.length >> 8, body.length & 0xff), body);
	if (encoding === ENC_ARMOR) {
		// §3.3.2: standard base64 with '=' padding, then LF: one frame a line.
		const out = new Uint8Array(Math.ceil(raw.length / 3) * 4 + 1);
		let o = 0;
		for (let i = 0; i < raw.length; i += 3) {
			const n = raw.length - i;
			const v = (raw[i] << 16) | ((n > 1 ? raw[i + 1] : 0) << 8) | (n > 2 ? raw[i + 2] : 0);
			out[o++] = B64.charCodeAt(v >> 18);
			out[o++] = B64.charCodeAt((v >> 12) & 63);
			out[o++] = n > 1 ? B64.charCodeAt((v >> 6) & 63) : EQ;
			out[o++] = n > 2 ? B64.charCodeAt(v & 63) : EQ;
		}
		out[o++] = LF;
		return out;
	}
	const out = new Uint8Array(raw.length * 2);
	let o = 0;
	for (const b of raw) {
		if (STUFF.has(b)) { out[o++] = DLE; out[o++] = b ^ 0x20; } else out[o++] = b;
	}
	return out.slice(0, o);
}

// Incremental decoder (§3.3.1–§3.3.3): the header is checked before any
// body byte is stored; errors are sticky.  Byte by byte, as frame_ref.h.
export class FrameDecoder {
	constructor(encoding = ENC_BINARY) {
		if (encoding !== ENC_BINARY && encoding !== ENC_ARMOR) fail(E.INVAL, 'encoding');
		this.encoding = encoding;
		this.err = null;
		this.offset = 0;	// stream bytes accepted so far
		this.reset();
	}
	reset() { this.hdr = []; this.body = null; this.fill = 0; this.dle = false; this.quad = []; this.pad = false; }
	get partial() { return this.dle || this.hdr.length > 0 || this.quad.length > 0 || this.pad; }
	get complete() { return this.hdr.length === 3 && this.fill === this.body.length; }
	// One decoded frame byte (frame_ref.h's ref_push).
	put(b) {
		if (this.complete) fail(E.TOOLONG, 'armored line too long');
		if (this.hdr.length < 3) {
			this.hdr.push(b);
			if (this.hdr.length === 1 && (b < FRAME.HELLO || b > FRAME.BYE)) fail(E.TYPE, `frame type ${b}`);
			if (this.hdr.length === 3) {
				const len = (this.hdr[1] << 8) | this.hdr[2];
				if (len > FRAME_BODY_MAX) fail(E.TOOLONG, 'frame length');
				this.body = new Uint8Array(len); this.fill = 0;
			}
		} else this.body[this.fill++] = b;
	}
	binary(c, frames) {
		if (this.dle) {
			c ^= 0x20;
			if (!STUFF.has(c)) fail(E.FORMAT, 'bad DLE escape');
			this.dle = false;
		} else if (c === DLE) { this.dle = true; return; }
		else if (STUFF.has(c)) fail(E.FORMAT, 'unstuffed byte');
		this.put(c);
		if (this.complete) { frames.push({ type: this.hdr[0], body: this.body }); this.reset(); }
	}
	armor(c, frames) {
		if (c === CR || c === SP) return;
		if (c === LF) {
			if (this.hdr.length === 0 && this.quad.length === 0 && !this.pad) return;	// empty line
			if (this.quad.length !== 0 || !this.complete) fail(E.TRUNCATED, 'armored line ends inside a frame');
			frames.push({ type: this.hdr[0], body: this.body });
			this.reset();
			return;
		}
		if (c === EQ) {
			if (this.quad.length < 2) fail(E.FORMAT, "'=' out of place");
			this.pad = true;
		} else if (B64V[c] < 0 || this.pad) fail(E.FORMAT, 'not base64, or data after padding');
		this.quad.push(c);
		if (this.quad.length < 4) return;
		const q = this.quad;
		this.quad = [];
		if (q[2] === EQ && q[3] !== EQ) fail(E.FORMAT, "'=' out of place");
		const nb = q[2] === EQ ? 1 : q[3] === EQ ? 2 : 3;
		const v = q.map((x) => (x === EQ ? 0 : B64V[x]));
		const w = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
		if ((nb === 1 && (w & 0xffff) !== 0) || (nb === 2 && (w & 0xff) !== 0)) fail(E.FORMAT, 'base64 not canonical');
		for (let i = 0; i < nb; i++) this.put((w >> (16 - 8 * i)) & 0xff);
	}
	push(chunk) {
		if (this.err) throw this.err;
		const frames = [];
		const step = this.encoding === ENC_ARMOR ? this.armor : this.binary;
		let i = 0;
		try {
			for (; i < chunk.length; i++) step.call(this, chunk[i], frames);
		} catch (err) {
			this.err = err instanceof ScError ? err : new ScError(E.FORMAT, String(err));
			this.err.offset = this.offset + i;
			this.err.frames = frames;	// the frames completed before the bad byte
			throw this.err;
		}
		this.offset += chunk.length;
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
