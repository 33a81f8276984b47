/*
 * info.c — what sccrypt-term says about its session: ~I and the ~C
 * "status" command (app_info), and the host name the trust policy and the
 * status line use.  Used by loop.c and cmdline.c alike, so that neither
 * needs the other's insides.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "app.h"
#include "encode.h"
#include "term.h"

const char *
app_host_for_policy(const struct app *a)
{
	if (a->host != NULL)
		return a->host;
	if (a->tr.host[0] != '\0')
		return a->tr.host;
	return NULL;
}

void
app_info(struct app *a)
{
	struct sess *s = &a->sess;
	char line[512], uuid[37];
	const struct sc_record_stats *st = &s->rl.stats;

	snprintf(line, sizeof(line), "VM %s on %s, state %s", a->vmname,
	    app_host_for_policy(a) ? app_host_for_policy(a) : "(host unknown)",
	    sess_state_name(s->state));
	tty_notice(line);
	if (s->have_hello) {
		sc_uuid_format(s->hello.uuid, uuid);
		snprintf(line, sizeof(line), "domain %s, hv key %s (%s)", uuid,
		    a->pol.fp, policy_how_name(a->pol.how));
		tty_notice(line);
		if (a->pol.cert_valid) {
			long long left = (long long)a->pol.cert.expires -
			    (long long)time(NULL);

			snprintf(line, sizeof(line), "certificate for %s, expires "
			    "in %lldh%02lldm", a->pol.cert.host, left / 3600,
			    (left % 3600) / 60);
			tty_notice(line);
		}
	}
	snprintf(line, sizeof(line), "cipher %s, encoding %s",
	    SC_NOISE_PROTOCOL, s->encoding == SC_ENCODING_ARMOR ? "armored" :
	    s->encoding == SC_ENCODING_BINARY ? "binary" : "-");
	tty_notice(line);
	if (s->have_rl) {
		snprintf(line, sizeof(line), "records sent %llu / received %llu, "
		    "payload bytes sent %llu / received %llu, rekeys %llu / %llu",
		    (unsigned long long)st->records_sent,
		    (unsigned long long)st->records_recv,
		    (unsigned long long)st->bytes_sent,
		    (unsigned long long)st->bytes_recv,
		    (unsigned long long)st->rekeys_sent,
		    (unsigned long long)st->rekeys_recv);
		tty_notice(line);
	}
	if (a->opened_at != 0) {
		long age = (long)(time(NULL) - a->opened_at);

		snprintf(line, sizeof(line), "session age %ldh%02ldm%02lds%s%s",
		    age / 3600, (age / 60) % 60, age % 60,
		    (s->hs2_flags & SC_HS2_F_OWNER) ? ", you are an owner" : "",
		    (s->hs2_flags & SC_HS2_F_VIEWER) ? ", read-only viewer" : "");
		tty_notice(line);
	}
}
