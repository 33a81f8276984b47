/*
 * sccrypt_tpm.c — a minimal TPM 2.0 TIS (FIFO) driver: measure the hv
 * public key into a PCR at boot (sccrypt_tpm.h has the contract).
 *
 * TCG PC Client Platform TPM Profile (PTP) for TPM 2.0, FIFO interface:
 * locality l has a 4 KiB register page at 0xfed40000 + l * 0x1000.  Only
 * locality 0 is used, and only during sccrypt_init(); the page is mapped
 * uncached for the two commands and unmapped again.  Commands are built
 * and responses parsed here, with explicit bounds (they come from a
 * device, not from a domain, but a broken or emulated TPM must not make
 * Xen read past the buffer).
 */
#include <xen/init.h>
#include <xen/lib.h>
#include <xen/errno.h>
#include <xen/delay.h>
#include <xen/time.h>
#include <xen/mm.h>
#include <asm/io.h>

#include "sccrypt_tpm.h"

#define TIS_BASE		0xfed40000UL	/* locality 0 */
#define TIS_PAGE		0x1000

/* Registers of one locality's page. */
#define TIS_ACCESS		0x000		/* 8 bit */
#define TIS_STS			0x018		/* 32 bit */
#define TIS_DATA_FIFO		0x024		/* 8 bit accesses */
#define TIS_DID_VID		0xf00		/* 32 bit */

#define ACCESS_VALID		0x80		/* tpmRegValidSts */
#define ACCESS_ACTIVE		0x20		/* activeLocality (write: relinquish) */
#define ACCESS_REQUEST		0x02		/* requestUse */

#define STS_VALID		0x80
#define STS_READY		0x40		/* commandReady */
#define STS_GO			0x20		/* tpmGo */
#define STS_DATA		0x10		/* dataAvail */
#define STS_EXPECT		0x08
#define STS_BURST(s)		(((s) >> 8) & 0xffff)
#define STS_FAMILY(s)		(((s) >> 26) & 3)	/* 1: TPM 2.0 */

/* Generous: swtpm behind QEMU on a loaded host, a real TPM's timeout B. */
#define TIS_WAIT		SECONDS(20)

/* TPM 2.0 constants (TPM 2.0 Part 2). */
#define TPM_ST_NO_SESSIONS	0x8001
#define TPM_ST_SESSIONS		0x8002
#define TPM_CC_PCR_EVENT	0x0000013c
#define TPM_CC_PCR_READ		0x0000017e
#define TPM_RS_PW		0x40000009
#define TPM_ALG_SHA1		0x0004
#define TPM_ALG_SHA256		0x000b
#define TPM_ALG_SHA384		0x000c
#define TPM_ALG_SHA512		0x000d
#define TPM_ALG_SM3_256		0x0012
#define TPM_HDR_LEN		10		/* tag:u16 size:u32 code:u32 */
#define TPM_EVENT_MAX		64		/* TPM2B_EVENT holds up to 1024 */
#define TPM_BUF_MAX		512		/* both commands and answers fit */

static void __iomem *tis;

static uint8_t tis_access(void) { return readb(tis + TIS_ACCESS); }
static uint32_t tis_sts(void) { return readl(tis + TIS_STS); }

/* Wait until (read() & mask) == want; 0 or -ETIMEDOUT. */
static int __init tis_wait8(uint8_t mask, uint8_t want)
{
	s_time_t end = NOW() + TIS_WAIT;

	while ( (tis_access() & mask) != want )
	{
		if ( NOW() > end )
			return -ETIMEDOUT;
		udelay(50);
	}
	return 0;
}

static int __init tis_wait_sts(uint32_t mask, uint32_t want)
{
	s_time_t end = NOW() + TIS_WAIT;

	while ( (tis_sts() & mask) != want )
	{
		if ( NOW() > end )
			return -ETIMEDOUT;
		udelay(50);
	}
	return 0;
}

/* The next burst count, waiting for it to become non-zero. */
static int __init tis_burst(unsigned int *burst)
{
	s_time_t end = NOW() + TIS_WAIT;
	uint32_t s;

	while ( (s = STS_BURST(tis_sts())) == 0 )
	{
		if ( NOW() > end )
			return -ETIMEDOUT;
		udelay(50);
	}
	*burst = s;
	return 0;
}

/*
 * One command cmd[0..len) -> response resp[0..cap), *rlen bytes.  The
 * caller holds locality 0.
 */
static int __init tis_transmit(const uint8_t *cmd, size_t len, uint8_t *resp,
                               size_t cap, size_t *rlen)
{
	unsigned int burst;
	size_t i = 0, want;
	int rc;

	writel(STS_READY, tis + TIS_STS);
	if ( (rc = tis_wait_sts(STS_READY, STS_READY)) )
		return rc;
	/* All bytes but the last: the TPM must keep expecting more. */
	while ( i < len - 1 )
	{
		if ( (rc = tis_burst(&burst)) )
			return rc;
		while ( burst-- > 0 && i < len - 1 )
			writeb(cmd[i++], tis + TIS_DATA_FIFO);
		if ( (rc = tis_wait_sts(STS_VALID, STS_VALID)) )
			return rc;
		if ( !(tis_sts() & STS_EXPECT) )
			return -EIO;
	}
	writeb(cmd[i], tis + TIS_DATA_FIFO);
	if ( (rc = tis_wait_sts(STS_VALID, STS_VALID)) )
		return rc;
	if ( tis_sts() & STS_EXPECT )
		return -EIO;
	writel(STS_GO, tis + TIS_STS);
	if ( (rc = tis_wait_sts(STS_VALID | STS_DATA, STS_VALID | STS_DATA)) )
		return rc;

	/* The header first (it carries the size), then the rest. */
	want = TPM_HDR_LEN;
	i = 0;
	while ( i < want )
	{
		if ( (rc = tis_burst(&burst)) )
			return rc;
		while ( burst-- > 0 && i < want )
			resp[i++] = readb(tis + TIS_DATA_FIFO);
		if ( i == TPM_HDR_LEN && want == TPM_HDR_LEN )
		{
			want = ((size_t)resp[2] << 24) | ((size_t)resp[3] << 16) |
			       ((size_t)resp[4] << 8) | resp[5];
			if ( want < TPM_HDR_LEN || want > cap )
				return -EIO;
		}
	}
	if ( (rc = tis_wait_sts(STS_VALID, STS_VALID)) )
		return rc;
	if ( tis_sts() & STS_DATA )
		return -EIO;		/* more than it announced */
	writel(STS_READY, tis + TIS_STS);
	*rlen = want;
	return 0;
}

/* ---- marshalling ------------------------------------------------------ */

struct tbuf {
	uint8_t	*p;
	size_t	 len, off;
	bool	 bad;			/* an access out of bounds happened */
};

static void __init put8(struct tbuf *b, uint8_t v)
{
	if ( b->off >= b->len )
		b->bad = true;
	else
		b->p[b->off++] = v;
}
static void __init put16(struct tbuf *b, uint16_t v)
{
	put8(b, v >> 8);
	put8(b, v);
}
static void __init put32(struct tbuf *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b, v);
}
static uint8_t __init get8(struct tbuf *b)
{
	if ( b->off >= b->len )
	{
		b->bad = true;
		return 0;
	}
	return b->p[b->off++];
}
static uint16_t __init get16(struct tbuf *b)
{
	uint16_t hi = get8(b);

	return (hi << 8) | get8(b);
}
static uint32_t __init get32(struct tbuf *b)
{
	uint32_t hi = get16(b);

	return (hi << 16) | get16(b);
}
static const uint8_t *__init getn(struct tbuf *b, size_t n)
{
	const uint8_t *p;

	if ( b->bad || n > b->len - b->off )
	{
		b->bad = true;
		return NULL;
	}
	p = b->p + b->off;
	b->off += n;
	return p;
}

static size_t __init alg_digest_len(uint16_t alg)
{
	switch ( alg )
	{
	case TPM_ALG_SHA1:	return 20;
	case TPM_ALG_SHA256:	return 32;
	case TPM_ALG_SM3_256:	return 32;
	case TPM_ALG_SHA384:	return 48;
	case TPM_ALG_SHA512:	return 64;
	default:		return 0;
	}
}

/* Send b->p[0..b->off) with the size patched in; answer parsed into r. */
static int __init tpm_call(struct tbuf *c, struct tbuf *r, uint16_t want_tag,
                           uint32_t *tpm_rc)
{
	size_t rlen = 0;
	uint16_t tag;
	uint32_t size, code;
	int rc;

	if ( c->bad )
		return -EINVAL;
	c->p[2] = c->off >> 24;
	c->p[3] = c->off >> 16;
	c->p[4] = c->off >> 8;
	c->p[5] = c->off;
	rc = tis_transmit(c->p, c->off, r->p, r->len, &rlen);
	if ( rc )
		return rc;
	r->len = rlen;
	r->off = 0;
	tag = get16(r);
	size = get32(r);
	code = get32(r);
	if ( tpm_rc )
		*tpm_rc = code;
	if ( r->bad || size != rlen )
		return -EIO;
	if ( code != 0 )
		return -EIO;
	if ( tag != want_tag )
		return -EIO;
	return 0;
}

static int __init tpm_pcr_event(unsigned int pcr, const uint8_t *data,
                                size_t len, uint8_t sha256[32],
                                uint32_t *tpm_rc)
{
	uint8_t cbuf[TPM_BUF_MAX], rbuf[TPM_BUF_MAX];
	struct tbuf c = { cbuf, sizeof(cbuf), 0, false };
	struct tbuf r = { rbuf, sizeof(rbuf), 0, false };
	uint32_t n, i;
	bool found = false;
	int rc;

	put16(&c, TPM_ST_SESSIONS);
	put32(&c, 0);				/* size, patched */
	put32(&c, TPM_CC_PCR_EVENT);
	put32(&c, pcr);				/* pcrHandle: TPM_HT_PCR << 24 | pcr */
	put32(&c, 9);				/* authorizationSize */
	put32(&c, TPM_RS_PW);			/* empty password session */
	put16(&c, 0);				/* nonce */
	put8(&c, 0);				/* sessionAttributes */
	put16(&c, 0);				/* hmac (empty PCR auth) */
	put16(&c, len);				/* TPM2B_EVENT */
	for ( i = 0; i < len; i++ )
		put8(&c, data[i]);
	if ( (rc = tpm_call(&c, &r, TPM_ST_SESSIONS, tpm_rc)) )
		return rc;
	(void)get32(&r);			/* parameterSize */
	n = get32(&r);				/* TPML_DIGEST_VALUES.count */
	if ( r.bad || n == 0 || n > 8 )
		return -EIO;
	for ( i = 0; i < n; i++ )
	{
		uint16_t alg = get16(&r);
		size_t dl = alg_digest_len(alg);
		const uint8_t *d;

		if ( dl == 0 || (d = getn(&r, dl)) == NULL )
			return -EIO;
		if ( alg == TPM_ALG_SHA256 )
		{
			memcpy(sha256, d, 32);
			found = true;
		}
	}
	return found ? 0 : -EIO;		/* no SHA-256 bank active */
}

static int __init tpm_pcr_read(unsigned int pcr, uint8_t value[32],
                               uint32_t *tpm_rc)
{
	uint8_t cbuf[TPM_BUF_MAX], rbuf[TPM_BUF_MAX];
	struct tbuf c = { cbuf, sizeof(cbuf), 0, false };
	struct tbuf r = { rbuf, sizeof(rbuf), 0, false };
	const uint8_t *sel, *d;
	uint32_t n;
	uint8_t sz;
	int rc;

	put16(&c, TPM_ST_NO_SESSIONS);
	put32(&c, 0);
	put32(&c, TPM_CC_PCR_READ);
	put32(&c, 1);				/* TPML_PCR_SELECTION.count */
	put16(&c, TPM_ALG_SHA256);
	put8(&c, 3);				/* sizeofSelect */
	put8(&c, pcr < 8 ? 1u << pcr : 0);
	put8(&c, pcr >= 8 && pcr < 16 ? 1u << (pcr - 8) : 0);
	put8(&c, 0);
	if ( (rc = tpm_call(&c, &r, TPM_ST_NO_SESSIONS, tpm_rc)) )
		return rc;
	(void)get32(&r);			/* pcrUpdateCounter */
	n = get32(&r);				/* the selection read */
	if ( r.bad || n != 1 || get16(&r) != TPM_ALG_SHA256 )
		return -EIO;
	sz = get8(&r);
	if ( (sel = getn(&r, sz)) == NULL || sz < 2 ||
	     !(sel[pcr / 8] & (1u << (pcr % 8))) )
		return -EIO;
	if ( get32(&r) != 1 || get16(&r) != 32 || (d = getn(&r, 32)) == NULL ||
	     r.off != r.len )
		return -EIO;
	memcpy(value, d, 32);
	return 0;
}

int __init sccrypt_tpm_measure(unsigned int pcr, const uint8_t *data,
                               size_t len,
                               uint8_t value_out[SCCRYPT_TPM_DIGEST_LEN],
                               uint32_t *tpm_rc)
{
	uint8_t digest[32];
	uint32_t id, sts;
	unsigned int i;
	int rc;

	if ( pcr > 15 || len == 0 || len > TPM_EVENT_MAX )
		return -EINVAL;
	if ( tpm_rc )
		*tpm_rc = 0;
	tis = ioremap(TIS_BASE, TIS_PAGE);
	if ( !tis )
		return -ENOMEM;
	id = readl(tis + TIS_DID_VID);
	if ( id == 0 || id == ~0u || !(tis_access() & ACCESS_VALID) )
	{
		rc = -ENODEV;
		goto out;
	}
	writeb(ACCESS_REQUEST, tis + TIS_ACCESS);
	if ( (rc = tis_wait8(ACCESS_VALID | ACCESS_ACTIVE,
	                     ACCESS_VALID | ACCESS_ACTIVE)) )
		goto out;
	sts = tis_sts();
	if ( STS_FAMILY(sts) != 1 )
	{
		printk(XENLOG_ERR "sccrypt: TPM at %#lx (id %08x) is not a TPM 2.0 "
		       "(STS %08x)\n", TIS_BASE, id, sts);
		rc = -ENODEV;
		goto release;
	}
	rc = tpm_pcr_event(pcr, data, len, digest, tpm_rc);
	if ( !rc )
		rc = tpm_pcr_read(pcr, value_out, tpm_rc);
	if ( !rc )
	{
		printk(XENLOG_INFO "sccrypt: TPM 2.0 (TIS, id %08x): PCR %u extended "
		       "at locality 0 with SHA-256 of the hv key ", id, pcr);
		for ( i = 0; i < sizeof(digest); i++ )
			printk("%02x", digest[i]);
		printk("\n");
	}
 release:
	/* Give locality 0 back: dom0's driver requests it next. */
	writeb(ACCESS_ACTIVE, tis + TIS_ACCESS);
 out:
	iounmap(tis);
	tis = NULL;
	return rc;
}
