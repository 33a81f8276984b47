// bytes.js — byte helpers: a bounds-checked reader (the JS twin of
// lib/core/buf.h: every read checks the length and throws
// SC_ERR_TRUNCATED), big-endian writers, hex/base64, constant-time compare
// and wiping.  No other module indexes wire data by hand.
import { E, fail } from './errors.js';

export function concat(...parts) {
	let n = 0;
	for (const p of parts) n += p.length;
	const out = new Uint8Array(n);
	let o = 0;
	for (const p of parts) { out.set(p, o); o += p.length; }
	return out;
}

export class Reader {
	constructor(bytes) { this.b = bytes; this.off = 0; }
	get avail() { return this.b.length - this.off; }
	need(n) { if (n > this.avail) fail(E.TRUNCATED, `need ${n} bytes, have ${this.avail}`); }
	u8() { this.need(1); return this.b[this.off++]; }
	u16() { this.need(2); const v = (this.b[this.off] << 8) | this.b[this.off + 1]; this.off += 2; return v; }
	u32() { this.need(4); const d = new DataView(this.b.buffer, this.b.byteOffset + this.off, 4); this.off += 4; return d.getUint32(0); }
	u64() { this.need(8); const d = new DataView(this.b.buffer, this.b.byteOffset + this.off, 8); this.off += 8; return d.getBigUint64(0); }
	bytes(n) { this.need(n); const v = this.b.subarray(this.off, this.off + n); this.off += n; return v; }
	str8() { return this.bytes(this.u8()); }
	str16() { return this.bytes(this.u16()); }
	rest() { return this.bytes(this.avail); }
	end() { if (this.avail !== 0) fail(E.FORMAT, `${this.avail} trailing bytes`); }
}

export class Writer {
	constructor() { this.parts = []; }
	u8(v) { this.parts.push(Uint8Array.of(v & 0xff)); return this; }
	u16(v) { this.parts.push(Uint8Array.of((v >> 8) & 0xff, v & 0xff)); return this; }
	u32(v) { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v); this.parts.push(b); return this; }
	u64(v) { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(v)); this.parts.push(b); return this; }
	bytes(b) { this.parts.push(b); return this; }
	str8(b) { if (b.length > 255) fail(E.TOOLONG); return this.u8(b.length).bytes(b); }
	str16(b) { if (b.length > 65535) fail(E.TOOLONG); return this.u16(b.length).bytes(b); }
	done() { return concat(...this.parts); }
}

export function hex(b) { return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''); }
export function unhex(s) {
	if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) fail(E.FORMAT, 'bad hex');
	const b = new Uint8Array(s.length / 2);
	for (let i = 0; i < b.length; i++) b[i] = parseInt(s.substr(2 * i, 2), 16);
	return b;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
export function b64encode(b, pad = true) {
	let s = '';
	for (let i = 0; i < b.length; i += 3) {
		const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
		const k = Math.min(3, b.length - i);
		s += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
		s += k > 1 ? B64[(n >> 6) & 63] : (pad ? '=' : '');
		s += k > 2 ? B64[n & 63] : (pad ? '=' : '');
	}
	return s;
}
// Strict, canonical, padded standard base64 (RFC 4648 §4): no whitespace,
// '=' only at the end, unused bits zero.
export function b64decode(s) {
	if (s.length % 4 !== 0) fail(E.FORMAT, 'base64 length');
	const npad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
	const out = new Uint8Array((s.length / 4) * 3 - npad);
	let o = 0;
	for (let i = 0; i < s.length; i += 4) {
		let n = 0;
		for (let j = 0; j < 4; j++) {
			const c = s[i + j];
			const last = i + 4 === s.length;
			let v;
			if (c === '=' && last && j >= 4 - npad) v = 0;
			else if ((v = B64.indexOf(c)) < 0 || c === undefined) fail(E.FORMAT, 'base64 character');
			n = (n << 6) | v;
		}
		if (i + 4 === s.length && npad && (n & (npad === 2 ? 0xffff : 0xff)) !== 0)
			fail(E.FORMAT, 'base64 padding bits');
		const trip = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
		for (let j = 0; j < 3 && o < out.length; j++) out[o++] = trip[j];
	}
	return out;
}

export function ctEqual(a, b) {
	if (a.length !== b.length) return false;
	let d = 0;
	for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
	return d === 0;
}

export function wipe(...arrays) { for (const a of arrays) if (a) a.fill(0); }

export const enc = new TextEncoder();
export const dec = new TextDecoder('utf-8', { fatal: false });
// Printable ASCII only; everything else as '?' (unauthenticated text, §3.5).
export function printable(b) { return Array.from(b, (c) => (c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : '?')).join(''); }
