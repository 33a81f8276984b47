// errors.js — the SC_ERR_* codes of lib/core/err.h as JS exceptions.
// Contract: every protocol function throws ScError with one of these names;
// callers branch on err.code, never on the message text.
export class ScError extends Error {
	constructor(code, message) {
		super(message ? `${code}: ${message}` : code);
		this.code = code;
	}
}
export const E = Object.freeze({
	TRUNCATED: 'SC_ERR_TRUNCATED', TOOLONG: 'SC_ERR_TOOLONG', FORMAT: 'SC_ERR_FORMAT',
	TYPE: 'SC_ERR_TYPE', DECRYPT: 'SC_ERR_DECRYPT', STATE: 'SC_ERR_STATE',
	NONCE: 'SC_ERR_NONCE', INVAL: 'SC_ERR_INVAL', BADKEY: 'SC_ERR_BADKEY',
	MISMATCH: 'SC_ERR_MISMATCH', VERSION: 'SC_ERR_VERSION', EXPIRED: 'SC_ERR_EXPIRED',
	UNTRUSTED: 'SC_ERR_UNTRUSTED', SIGNATURE: 'SC_ERR_SIGNATURE',
	PASSPHRASE: 'SC_ERR_PASSPHRASE', UNSUPPORTED: 'SC_ERR_UNSUPPORTED',
});
export function fail(code, message) { throw new ScError(code, message); }
