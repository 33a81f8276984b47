// gateway.js — the web client's side of sccrypt-webgate (sccrypt-webgate(8)):
// one WebSocket; the first (text) message authenticates the tenant:
// "SCCRYPT-WEB/1 TOKEN VM", or "SCCRYPT-WEB/1 TOKEN VM A" to ask consoled for
// the armored encoding (what `sccrypt-console --armor VM` asks); the gateway answers one text message, "OK" or
// "ERR code text" (unauthenticated, from dom0); then binary messages carry
// the relay's byte stream both ways.  Works with the browser's WebSocket
// and with the `ws` package in Node (same API subset).
export const AUTH_PREFIX = 'SCCRYPT-WEB/1';

// connect(WebSocketClass, url, {token, vm, armor, wsOptions}, handlers) where
// handlers = {ok(), refused(text), bytes(Uint8Array), closed(code, reason)}.
export function connect(WS, url, { token, vm, armor = false, wsOptions }, h) {
	const ws = wsOptions ? new WS(url, wsOptions) : new WS(url);
	let authed = false, done = false;
	ws.binaryType = 'arraybuffer';
	ws.onopen = () => ws.send(`${AUTH_PREFIX} ${token} ${vm}${armor ? ' A' : ''}`);
	ws.onmessage = (ev) => {
		if (!authed) {
			if (typeof ev.data !== 'string') { done = true; h.refused('the gateway sent data before authenticating'); ws.close(); return; }
			if (ev.data === 'OK') { authed = true; h.ok(); return; }
			done = true;
			h.refused(ev.data.replace(/[^\x20-\x7e]/g, '?'));
			return;
		}
		if (typeof ev.data === 'string') { h.bytes(null); return; }
		h.bytes(new Uint8Array(ev.data));
	};
	ws.onclose = (ev) => { if (!done) { done = true; h.closed(ev.code, ev.reason); } };
	ws.onerror = () => {};
	return {
		send: (b) => { if (ws.readyState === 1) ws.send(b); },
		close: () => ws.close(),
		get buffered() { return ws.bufferedAmount; },
	};
}
