/*
 * policy.c — who may hold a connection: the per-user limit, the global
 * limit (making room by closing the oldest request-phase client of another
 * user), and re-checking open sessions when sccrypt.conf's rules change.
 */
#include "config.h"

#include <stddef.h>

#include "core/err.h"
#include "log.h"
#include "relay_int.h"

/* Open connections of uid (c->uid: the peer's, or the as= user's), except skip. */
unsigned
cd_user_clients(const struct sc_cd *cd, uid_t uid, const struct sc_cd_client *skip)
{
	const struct sc_cd_client *o;
	unsigned n = 0;

	for (o = cd->clients; o != NULL; o = o->next)
		if (o != skip && !o->dead && o->state != SC_CD_CLOSING && o->uid == uid)
			n++;
	return n;
}

/* Root (the sudo shims), or a user the policy allows some VM. */
static bool
user_has_rules(const struct sc_conf *conf, uid_t uid)
{
	size_t i;

	if (uid == 0)
		return true;
	for (i = 0; i < conf->nrules; i++)
		if (conf->rules[i].any_user ||
		    (conf->rules[i].resolved && conf->rules[i].uid == uid))
			return true;
	return false;
}

int
sc_cd_admit(struct sc_cd *cd, uid_t peer)
{
	struct sc_cd_client *o, *victim = NULL;
	unsigned live = 0;

	if (peer != 0 && cd_user_clients(cd, peer, NULL) >= cd->conf->max_clients_per_user)
		return SC_ERR_BUSY;
	/* Closing clients still hold their buffers for a while: a hard cap. */
	if (cd->nclients >= 2 * cd->conf->max_clients)
		return SC_ERR_BUSY;
	for (o = cd->clients; o != NULL; o = o->next) {
		if (o->dead || o->state == SC_CD_CLOSING)
			continue;
		live++;
		/* The list is newest first: the last match is the oldest. */
		if (o->state == SC_CD_REQ && o->peer_uid != peer)
			victim = o;
	}
	if (live < cd->conf->max_clients)
		return 0;
	if (victim == NULL || !user_has_rules(cd->conf, peer))
		return SC_ERR_BUSY;
	sc_info("client %llu (uid %u): closed in the request phase to make room",
	    (unsigned long long)victim->id, (unsigned)victim->peer_uid);
	cd_reply(cd, victim, SC_CTL_E_BUSY, 0, "too many clients");
	return 0;
}

unsigned
sc_cd_policy_changed(struct sc_cd *cd)
{
	struct sc_cd_client *c;
	unsigned n = 0;

	for (c = cd->clients; c != NULL; c = c->next) {
		if (c->dead || c->dom == NULL || (c->state != SC_CD_FRAMED &&
		    c->state != SC_CD_SESSION && c->state != SC_CD_RAW))
			continue;
		if (sc_policy_allows(cd->conf, c->uid, c->dom->name))
			continue;
		sc_info("client %llu: uid %u no longer allowed on %s by the policy; "
		    "closing", (unsigned long long)c->id, (unsigned)c->uid,
		    c->dom->name);
		if (c->state != SC_CD_RAW)
			cd_emit_error(cd, c, SC_ERR_PERM, "access revoked by the dom0 policy");
		cd_client_close(cd, c, c->state != SC_CD_RAW);
		n++;
	}
	return n;
}

