// client.js — what sccrypt-term does on the wire (PROTOCOL.md §10), for the
// web page and the Node tests.  No I/O of its own: the caller feeds bytes
// from the gateway (feed), keystrokes (input) and transport loss (lost);
// the session calls back:
//   io.send(bytes)            bytes for the gateway (frames, binary `B`)
//   io.clear(bytes)           dom0's clear text: NOT encrypted, not
//                             authenticated; show it inert, never in the terminal
//   io.output(bytes)          authenticated console output (DATA, HISTORY)
//   io.notice(text)           a local notice (client or hv)
//   io.state(name)            'clear' | 'handshake' | 'encrypted' | 'closing' |
//                             'tampered' | 'closed'
//   io.end({exit, message})   once; exit codes as sccrypt-term's (§10)
//   io.tofu(fingerprint)      only without a pinned key server: true trusts
// Options: {vm, host, consoleKey, vmFile {uuid, secret}, ksPub, trustFp,
// viewer, takeover, history, now()}.  The caller owns and wipes the keys;
// wipe() wipes the session's.
import { Reader, Writer, concat, ctEqual, enc, printable, wipe } from './bytes.js';
import { E } from './errors.js';
import { FRAME, FrameDecoder, HelloScanner, HELLO_F_PROTECTED, PROTOCOL_VERSION,
	encodeFrame, parseError, parseHello } from './frame.js';
import { Handshake } from './noise.js';
import { REC, RecordLayer, PAYLOAD_MAX, CLOSE_REASON } from './record.js';
import { fingerprint, verifyCert } from './keys.js';

export const NOISE_NAME = 'Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b';
export const PROTOCOL_ID = enc.encode('SCCrypt/1');
export const HS1_F_VIEWER = 0x01, HS1_F_TAKEOVER = 0x02, HS2_F_OWNER = 0x01, HS2_F_VIEWER = 0x02;
export const TYPEAHEAD_MAX = 4096;
export const CLOSE_WAIT_MS = 15000;
const HS_REFUSED_AUTH = new Set([20, 11, 12, 17, 28]);	// §10: ERROR codes that exit 4
const NOTICE_LOST_OUTPUT = 1;

export class Session {
	constructor(opts, io) {
		this.o = opts;
		this.io = io;
		this.scan = new HelloScanner();
		this.dec = null;	// in the encoding dom0 announces (§3.1)
		this.enc = null;
		this.phase = 'clear';
		this.held = [];
		this.heldLen = 0;
		this.dropped = 0;
		this.hs = null;
		this.rl = null;
		this.ended = false;
		this.viewerTold = false;
		this.lostBytes = 0n;
		this.lostShown = false;
		this.closeTimer = null;
		io.state('clear');
	}

	// ---- bytes from the gateway ----
	feed(chunk) {
		if (this.ended) return;
		if (this.phase === 'clear') {
			const r = this.scan.push(chunk);
			if (r.clear.length) this.io.clear(r.clear);
			if (!r.found) return;
			// Both encodings, as sccrypt-term: ours follows dom0's choice.
			this.enc = this.scan.encoding;
			this.dec = new FrameDecoder(this.enc);
			this.phase = 'hello';
			chunk = r.rest;
		}
		let frames;
		try {
			frames = this.dec.push(chunk);
		} catch (err) {
			for (const f of err.frames ?? []) { this.frame(f); if (this.ended) return; }
			return this.end(5, `malformed frame from dom0 (${err.code})`);
		}
		for (const f of frames) { this.frame(f); if (this.ended) return; }
	}

	frame(f) {
		if (f.type === FRAME.ERROR) {
			let e;
			try { e = parseError(f.body); } catch { return this.end(5, 'malformed ERROR frame'); }
			const auth = this.phase === 'handshake' && HS_REFUSED_AUTH.has(e.code);
			const why = e.code === 20 ? ' (the console key is not in the VM\'s access list)' : '';
			return this.end(auth ? 4 : 6, `dom0 reports (not authenticated): ${e.text}${why}`);
		}
		if (f.type === FRAME.BYE) {
			if (this.phase === 'open' || this.phase === 'closing')
				return this.end(5, 'the session ended without the hypervisor\'s CLOSE: its tail may be lost');
			return this.end(3, 'dom0 ended the connection before the session was open');
		}
		if (this.phase === 'hello') {
			if (f.type !== FRAME.HELLO) return this.end(5, `expected HELLO, got frame type ${f.type}`);
			return this.hello(f.body);
		}
		if (this.phase === 'handshake') {
			if (f.type !== FRAME.HS_RESP) return this.end(5, `expected HS_RESP, got frame type ${f.type}`);
			return this.hsResp(f.body);
		}
		if (f.type !== FRAME.RECORD) return this.end(5, `unexpected frame type ${f.type} in an open session`);
		return this.record(f.body);
	}

	hello(body) {
		let h;
		try {
			h = parseHello(body);
		} catch (err) {
			if (err.code === E.VERSION)
				return this.end(5, `${err.message.replace(/^SC_ERR_VERSION: /, '')}: client and host must be upgraded together`);
			return this.end(5, `malformed HELLO (${err.code})`);
		}
		const o = this.o;
		if (h.vmname !== o.vm) return this.end(4, `dom0 offered VM "${h.vmname}", not "${o.vm}"`);
		if (o.vmFile?.uuid && !ctEqual(h.uuid, o.vmFile.uuid)) return this.end(4, 'the domain UUID differs from the one in the VM file');
		if (!(h.flags & HELLO_F_PROTECTED)) return this.end(4, `${o.vm} is not protected: its console would not be encrypted (run vm protect)`);
		const why = this.trust(h);
		if (why) return this.end(4, why);
		this.helloInfo = h;
		// Handshake: initiator = console key, rs = hv key, psk = VM secret.
		const prologue = concat(PROTOCOL_ID, h.uuid, h.hvPub);
		this.hs = new Handshake(NOISE_NAME, { initiator: true, prologue, s: o.consoleKey,
			rs: h.hvPub, psks: [o.vmFile.secret] });
		const flags = (o.viewer ? HS1_F_VIEWER : 0) | (o.takeover ? HS1_F_TAKEOVER : 0);
		const p1 = new Writer().u8(PROTOCOL_VERSION).u8(flags).u32(o.history ?? 0).done();
		let m1;
		try { m1 = this.hs.writeMessage(p1); } catch (err) { return this.end(4, `handshake failed (${err.code})`); }
		this.phase = 'handshake';
		this.io.state('handshake');
		this.io.send(encodeFrame(FRAME.HS_INIT, m1, this.enc));
	}

	// The hv key trust of §10 ("Certificate policy"); returns a refusal or null.
	trust(h) {
		const o = this.o, fp = fingerprint(h.hvPub);
		if (o.trustFp) return o.trustFp === fp ? null : `the hv key ${fp} is not the one given (${o.trustFp})`;
		if (o.ksPub) {
			if (h.cert.length === 0) return 'dom0 withheld the VMM certificate (a key server is pinned: a valid certificate is mandatory)';
			if (!o.host) return 'the host name is unknown: the certificate cannot be checked';
			try {
				verifyCert(h.cert, o.ksPub, { host: o.host, hvPub: h.hvPub, now: (o.now ? o.now() : Math.floor(Date.now() / 1000)) });
				return null;
			} catch (err) {
				const r = { [E.EXPIRED]: 'expired (or not yet valid)', [E.SIGNATURE]: 'bad signature',
					[E.UNTRUSTED]: 'signed by another key server', [E.MISMATCH]: 'for another host or hv key',
					[E.VERSION]: 'of an unknown version' }[err.code] ?? 'malformed';
				return `the VMM certificate is ${r}: refusing the hv key ${fp}`;
			}
		}
		if (this.io.tofu && this.io.tofu(fp)) return null;
		return `the hv key ${fp} is not trusted (pin the key server or give its fingerprint)`;
	}

	hsResp(body) {
		let p2;
		try {
			p2 = this.hs.readMessage(body);
		} catch (err) {
			return this.end(4, `handshake failed (${err.code}): wrong VM secret, a key not in the VM's access list, or tampering`);
		}
		try {
			const r = new Reader(p2);
			const v = r.u8(), flags = r.u8(), kept = r.u32(), lost = r.u64();
			r.end();
			if (v !== PROTOCOL_VERSION) throw new Error('version');
			this.hs2 = { flags, historyKept: kept, lostBytes: lost };
		} catch {
			return this.end(5, 'malformed handshake payload from the hv');
		}
		this.rl = new RecordLayer(this.hs.split());
		this.hs = null;
		this.phase = 'open';
		this.io.state('encrypted');
		this.io.notice(`encrypted session with ${this.o.vm} open${this.hs2.flags & HS2_F_VIEWER ? ' (read-only viewer)' : ''}; everything shown above the terminal came from dom0 in clear`);
		if (this.hs2.lostBytes > 0n && this.hs2.historyKept === 0) this.lostNotice();
		if (this.o.takeover) this.seal(REC.PING, enc.encode('takeover'));
		if (this.o.viewer && this.heldLen) this.viewerNotice();
		else for (const b of this.held) this.sendData(b);
		if (this.dropped) this.io.notice(`${this.dropped} typed bytes over the ${TYPEAHEAD_MAX}-byte typeahead were discarded`);
		this.held = []; this.heldLen = 0;
	}
	lostNotice() {
		if (this.lostShown) return;
		this.lostShown = true;
		this.io.notice(`${this.hs2.lostBytes} bytes of output were lost while nobody was attached`);
	}
	viewerNotice() {
		if (!this.viewerTold) this.io.notice('read-only viewer: typed input is not sent');
		this.viewerTold = true;
	}

	record(ct) {
		let r;
		try {
			r = this.rl.open(ct);
		} catch (err) {
			this.io.state('tampered');
			return this.end(5, `connection tampered with — session closed (${err.code})`, 'tampered');
		}
		const p = r.payload;
		if (this.phase === 'closing' && r.type !== REC.CLOSE) return;
		switch (r.type) {
		case REC.DATA:
			if (this.hs2.lostBytes > 0n) this.lostNotice();
			this.io.output(p); break;
		case REC.HISTORY:
			if (p.length >= 1) this.io.output(p.subarray(1)); break;
		case REC.NOTICE: return this.notice(p);
		case REC.PING: if (p.length <= 64) this.seal(REC.PONG, p); break;
		case REC.PONG: case REC.REKEY: case REC.OWNER_RESULT: break;
		case REC.CLOSE: return this.hvClose(p);
		default:
			return this.end(5, `the hv sent a record of type ${r.type}, which a client does not accept`);
		}
	}
	notice(p) {
		try {
			const r = new Reader(p);
			const code = r.u16(), value = r.u64(), text = printable(r.str8());
			r.end();
			if (code === NOTICE_LOST_OUTPUT && value === this.hs2.lostBytes && !this.lostNoticeSeen) {
				this.lostNoticeSeen = true;
				return this.lostNotice();
			}
			this.io.notice(`hv: ${text}`);
		} catch {
			this.end(5, 'malformed NOTICE from the hv');
		}
	}
	hvClose(p) {
		let c;
		try { c = this.rl.parseClose(p); } catch (err) { return this.end(5, `bad CLOSE from the hv (${err.code})`); }
		const lost = this.rl.stats.recordsSent - c.recv;
		const why = c.text ? `: ${c.text}` : '';
		if (this.phase === 'closing' && lost === 0n) return this.end(0, 'session closed');
		if (c.reason === 2) return this.end(5, `the hv closed the session: protocol error${why}`);
		if (c.reason === 0 && lost > 0n) return this.end(5, `the hv closed the session, ${lost} of our records did not reach it${why}`);
		const msg = `the hv closed the session (${CLOSE_REASON[c.reason] ?? 'unknown reason'})${why}`;
		return this.end(0, lost > 0n ? `${msg}; ${lost} records in flight were lost` : msg);
	}

	// ---- from the user ----
	input(bytes) {
		if (this.ended || this.phase === 'closing') return;
		if (this.phase !== 'open') {
			// Never in clear (§10 rules 2 and 3): held until the session opens.
			const room = TYPEAHEAD_MAX - this.heldLen;
			if (bytes.length > room) this.dropped += bytes.length - room;
			if (room > 0) { const b = bytes.slice(0, room); this.held.push(b); this.heldLen += b.length; }
			return;
		}
		if (this.o.viewer || (this.hs2.flags & HS2_F_VIEWER)) return this.viewerNotice();
		this.sendData(bytes);
	}
	sendData(bytes) {
		for (let i = 0; i < bytes.length && !this.ended; i += PAYLOAD_MAX)
			this.seal(REC.DATA, bytes.subarray(i, i + PAYLOAD_MAX));
	}
	sendBreak(key = 0) {
		if (key !== 0 && (key < 0x21 || key > 0x7e)) { this.io.notice('that SysRq key cannot be sent'); return; }
		this.seal(REC.BREAK, Uint8Array.of(key));
	}
	rekey() { this.seal(REC.REKEY); }
	requestHistory(n) {
		this.seal(REC.HISTORY_REQ, new Writer().u32(n).done());
		this.seal(REC.PING, enc.encode('history'));
	}
	seal(type, payload) {
		if (this.ended || this.phase !== 'open') return;
		try {
			if (type !== REC.REKEY && this.rl.needRekey) this.io.send(encodeFrame(FRAME.RECORD, this.rl.seal(REC.REKEY), this.enc));
			this.io.send(encodeFrame(FRAME.RECORD, this.rl.seal(type, payload), this.enc));
		} catch (err) {
			this.end(5, `cannot seal a record (${err.code})`);
		}
	}
	// The close handshake (§5.6): our CLOSE, then wait for the hv's.
	close() {
		if (this.ended) return;
		if (this.phase !== 'open') return this.end(3, 'closed before the session was open');
		this.io.send(encodeFrame(FRAME.RECORD, this.rl.sealClose(0, ''), this.enc));
		this.phase = 'closing';
		this.io.state('closing');
		this.closeTimer = setTimeout(() => this.end(5, 'no CLOSE from the hypervisor: the end of the session may be lost'), CLOSE_WAIT_MS);
	}
	// The transport (WebSocket) went away.
	lost(why = 'the gateway connection closed') {
		if (this.ended) return;
		if (this.phase === 'open' || this.phase === 'closing')
			return this.end(5, `${why}: the session ended without the hypervisor's CLOSE`);
		this.end(3, `${why} before the session was open`);
	}
	end(exit, message, state) {
		if (this.ended) return;
		this.ended = true;
		clearTimeout(this.closeTimer);
		if (state !== 'tampered') this.io.state('closed');
		this.wipe();
		this.io.end({ exit, message });
	}
	wipe() {
		this.hs?.wipe(); this.rl?.wipe();
		for (const b of this.held) wipe(b);
		this.held = [];
	}
}
