/*
 * frame.h — frames on the byte stream between sccrypt-term and dom0/hv, the
 * clear-text HELLO scanner, and HELLO/ERROR bodies.
 *
 * Encodings (chosen by the character after SC_HELLO_MAGIC):
 *
 *  'B' binary: the frame bytes, with DLE stuffing so that ciphertext never
 *      contains bytes that terminals, ssh or xenconsole act on: each byte in
 *      SC_STUFF_SET is sent as DLE (0x10) followed by byte ^ 0x20.  The set is
 *      DLE 0x10, XON 0x11, XOFF 0x13, xenconsole's escape 0x1d, ssh's '~' 0x7e.
 *  'A' armored: each frame is standard base64 (RFC 4648, with padding) of the
 *      frame bytes followed by '\n'; '\r' and ' ' are ignored by the decoder.
 *      For paths that are not 8-bit clean.
 *
 * The decoder is incremental: feed it arbitrary chunks, it yields whole
 * frames.  Header type and length are checked as soon as they arrive: a
 * length over SC_FRAME_BODY_MAX or an unknown type is an error before the
 * body is buffered.  After an error the decoder stays failed.
 */
#ifndef SC_CORE_FRAME_H
#define SC_CORE_FRAME_H

#include "core/compat.h"
#include "core/buf.h"
#include "core/wire.h"

#define SC_DLE			0x10
#define SC_STUFF_XOR		0x20
/* Worst-case encoded sizes of one frame. */
#define SC_FRAME_ENC_MAX_BINARY	(2 * SC_FRAME_MAX)
#define SC_FRAME_ENC_MAX_ARMOR	(((SC_FRAME_MAX + 2) / 3) * 4 + 1)
#define SC_FRAME_ENC_MAX	SC_FRAME_ENC_MAX_BINARY

struct sc_frame {
	uint8_t		type;
	uint16_t	len;
	const uint8_t	*body;		/* valid until the next feed */
};

struct sc_frame_decoder {
	uint8_t		encoding;	/* SC_ENCODING_BINARY or _ARMOR */
	int		error;		/* sticky negative code, 0 if fine */
	bool		in_escape;	/* binary: previous byte was DLE */
	uint8_t		b64_quad[4];	/* armor: pending base64 characters */
	unsigned	b64_n;
	bool		b64_pad_seen;
	size_t		have;		/* bytes of the current frame decoded */
	bool		frame_ready;
	uint8_t		frame[SC_FRAME_MAX];
};

int	sc_frame_decoder_init(struct sc_frame_decoder *d, uint8_t encoding) SC_WUR;
/*
 * Consume bytes from in[0..len) until one whole frame is decoded or the input
 * ends.  *consumed is set to the bytes used.  Returns 1 with *f filled when a
 * frame is ready (call again with the rest of the input), 0 when more input is
 * needed, or a negative code on malformed input.
 */
int	sc_frame_decode(struct sc_frame_decoder *d, const uint8_t *in, size_t len,
	    size_t *consumed, struct sc_frame *f) SC_WUR;
/* True if the decoder holds a partial frame (EOF now would truncate it). */
bool	sc_frame_decoder_partial(const struct sc_frame_decoder *d);

/* Append one encoded frame to out. */
int	sc_frame_encode(struct sc_buf *out, uint8_t encoding, uint8_t type,
	    const uint8_t *body, size_t len) SC_WUR;
/* Append SC_HELLO_MAGIC and the encoding character. */
int	sc_frame_put_magic(struct sc_buf *out, uint8_t encoding) SC_WUR;

/*
 * Clear-text phase scanner.  Feed the bytes dom0 sends before the HELLO.
 * Bytes that cannot be part of the magic are passed through as clear text
 * (out_clear[0..*clear_len), possibly including a held-back partial match that turned
 * out not to be the magic: the scanner owns that storage).  When the magic and
 * a valid encoding char have been seen, returns 1 and *consumed tells where
 * the framed stream starts in this chunk; otherwise returns 0 with *consumed
 * == len.  Call repeatedly: each call handles one chunk and may emit clear
 * text up to len + SC_HELLO_MAGIC_LEN bytes into out_clear (caller storage of
 * at least len + SC_HELLO_MAGIC_LEN).  No byte is ever lost or duplicated.
 */
struct sc_hello_scanner {
	size_t		matched;		/* bytes of the magic matched so far */
	bool		want_encoding;		/* magic seen, encoding char next */
	uint8_t		encoding;		/* result */
};
void	sc_hello_scanner_init(struct sc_hello_scanner *s);
int	sc_hello_scan(struct sc_hello_scanner *s, const uint8_t *in, size_t len,
	    uint8_t *out_clear, size_t *clear_len, size_t *consumed) SC_WUR;
/*
 * At EOF (or when giving up on the HELLO): release the held-back partial
 * match (at most SC_HELLO_MAGIC_LEN bytes) into out_clear, reset the match
 * and return its length.  Returns 0 once the magic has been found.
 */
size_t	sc_hello_scan_flush(struct sc_hello_scanner *s, uint8_t *out_clear);

/* HELLO body (see wire.h). */
struct sc_hello {
	uint8_t		version;
	uint8_t		flags;
	char		vmname[SC_VMNAME_MAX + 1];	/* NUL-terminated, validated */
	uint8_t		uuid[SC_UUID_LEN];
	uint8_t		hv_pubkey[SC_KEY_LEN];
	uint32_t	history_bytes;
	uint8_t		cert[SC_CERT_MAX];
	size_t		cert_len;
};
int	sc_hello_encode(const struct sc_hello *h, struct sc_buf *body) SC_WUR;
int	sc_hello_parse(struct sc_buf *body, struct sc_hello *h) SC_WUR;

/* ERROR body: code:u16 text:str8.  Text is not trusted: parse sanitises it to
 * printable ASCII. */
int	sc_errorframe_encode(uint16_t code, const char *text, struct sc_buf *body) SC_WUR;
int	sc_errorframe_parse(struct sc_buf *body, uint16_t *code,
	    char text[SC_ERRMSG_MAX + 1]) SC_WUR;

/* VM names: 1..SC_VMNAME_MAX of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool	sc_vmname_valid(const char *name, size_t len);

#endif /* SC_CORE_FRAME_H */
