// record.js — SCCrypt records, protocol version 2 (PROTOCOL.md §5), the JS
// twin of lib/core/record.c.  A record is one Noise transport message over
// plaintext = type:u8 length:u16 payload zero-padding to 64/256/1024/4099.
//
// Contract: new RecordLayer({send, recv}) from Handshake.split().
// seal(type, payload) -> ciphertext; open(ct) -> {type, payload}.
// Any receive failure kills the receive direction (later open(): STATE);
// caller errors in seal (unknown type, too long, REKEY payload) do not.
// sealClose / parseClose build and check the CLOSE payload (§5.6).
import { Reader, Writer, enc, printable, wipe } from './bytes.js';
import { E, ScError, fail } from './errors.js';

export const REC = Object.freeze({
	DATA: 1, BREAK: 2, CLOSE: 3, PING: 4, PONG: 5, HISTORY_REQ: 6, HISTORY: 7,
	NOTICE: 8, OWNER_CMD: 9, OWNER_RESULT: 10, REKEY: 11,
});
export const CLOSE_REASON = ['NORMAL', 'TAKEN_OVER', 'PROTOCOL', 'SHUTDOWN', 'ACL'];
export const PAYLOAD_MAX = 4096;
export const HDR_LEN = 3;
export const PADS = [64, 256, 1024, HDR_LEN + PAYLOAD_MAX];
export const TAG_LEN = 16;
export const CT_MIN = PADS[0] + TAG_LEN;
export const CT_MAX = PADS[3] + TAG_LEN;
export const CLOSE_FIXED_LEN = 17;
export const CLOSE_TEXT_MAX = 40;
export const REKEY_AFTER_RECORDS = 2n ** 32n;
const EMPTY = new Uint8Array(0);

export const paddedLen = (len) => PADS.find((p) => HDR_LEN + len <= p);
export const ctLen = (len) => paddedLen(len) + TAG_LEN;
const typeKnown = (t) => t >= REC.DATA && t <= REC.REKEY;

export class RecordLayer {
	constructor({ send, recv }) {
		this.send = send;
		this.recv = recv;
		this.recvDead = false;
		this.dead = false;
		this.stats = { recordsSent: 0n, recordsRecv: 0n, bytesSent: 0n, bytesRecv: 0n,
			rekeysSent: 0n, rekeysRecv: 0n, sinceRekeySend: 0n };
	}
	get needRekey() { return this.stats.sinceRekeySend >= REKEY_AFTER_RECORDS; }

	seal(type, payload = EMPTY) {
		if (this.dead) fail(E.STATE, 'record layer dead');
		if (!typeKnown(type)) fail(E.TYPE, `record type ${type}`);
		if (payload.length > PAYLOAD_MAX) fail(E.TOOLONG);
		if (type === REC.REKEY && payload.length !== 0) fail(E.INVAL, 'REKEY carries no payload');
		const pt = new Uint8Array(paddedLen(payload.length));
		pt[0] = type; pt[1] = payload.length >> 8; pt[2] = payload.length & 0xff;
		pt.set(payload, HDR_LEN);
		let ct;
		try {
			ct = this.send.encrypt(EMPTY, pt);
			if (type === REC.REKEY) this.send.rekey();
		} catch (err) {
			this.dead = true;
			throw err;
		} finally {
			wipe(pt);
		}
		const s = this.stats;
		s.recordsSent++; s.bytesSent += BigInt(payload.length);
		if (type === REC.REKEY) { s.rekeysSent++; s.sinceRekeySend = 0n; } else s.sinceRekeySend++;
		return ct;
	}

	recvFail(code, msg) {
		this.recvDead = true;
		throw new ScError(code, msg);
	}
	open(ct) {
		if (this.dead || this.recvDead) fail(E.STATE, 'receive direction dead');
		if (ct.length < CT_MIN) this.recvFail(E.TRUNCATED);
		if (ct.length > CT_MAX) this.recvFail(E.TOOLONG);
		const ptlen = ct.length - TAG_LEN;
		if (!PADS.includes(ptlen)) this.recvFail(E.FORMAT, `record size ${ct.length}`);
		let pt;
		try {
			pt = this.recv.decrypt(EMPTY, ct);
		} catch (err) {
			this.recvFail(err.code ?? E.DECRYPT, err.message);
		}
		try {
			const t = pt[0], plen = (pt[1] << 8) | pt[2];
			if (plen > ptlen - HDR_LEN || paddedLen(plen) !== ptlen ||
			    pt.subarray(HDR_LEN + plen).some((x) => x !== 0))
				this.recvFail(E.FORMAT, 'record length or padding');
			if (!typeKnown(t)) this.recvFail(E.TYPE, `record type ${t}`);
			if (t === REC.REKEY) {
				if (plen !== 0) this.recvFail(E.FORMAT, 'REKEY with a payload');
				try { this.recv.rekey(); } catch (err) { this.recvFail(err.code, err.message); }
				this.stats.rekeysRecv++;
			}
			const payload = pt.slice(HDR_LEN, HDR_LEN + plen);
			this.stats.recordsRecv++;
			this.stats.bytesRecv += BigInt(plen);
			return { type: t, payload };
		} finally {
			wipe(pt);
		}
	}

	// CLOSE(reason, sent = records sealed before it, recv = records opened).
	sealClose(reason, text = '') {
		const t = enc.encode(printable(enc.encode(text)).slice(0, CLOSE_TEXT_MAX));
		const p = new Writer().u8(reason).u64(this.stats.recordsSent)
			.u64(this.stats.recordsRecv).str8(t).done();
		return this.seal(REC.CLOSE, p);
	}
	// Check a CLOSE payload just returned by open(): sent must equal the
	// records opened before it, recv at most the records sealed.
	parseClose(payload) {
		const r = new Reader(payload);
		const reason = r.u8(), sent = r.u64(), recv = r.u64();
		const tlen = r.u8();
		if (tlen > CLOSE_TEXT_MAX) fail(E.TOOLONG, 'CLOSE text');
		const text = printable(r.bytes(tlen));
		r.end();
		if (sent !== this.stats.recordsRecv - 1n || recv > this.stats.recordsSent)
			fail(E.MISMATCH, 'CLOSE counts');
		return { reason, reasonName: CLOSE_REASON[reason] ?? 'unknown reason', sent, recv, text };
	}
	wipe() { this.send?.wipe(); this.recv?.wipe(); this.dead = true; }
}
