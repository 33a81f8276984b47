/*
 * verbs.h — sccrypt-term's subcommands (keygen, pubkey, vm, cert,
 * keyserver) and the key loading they share with the console session.
 */
#ifndef SCCRYPT_TERM_VERBS_H
#define SCCRYPT_TERM_VERBS_H

#include "app.h"

struct verb {
	const char	*name;
	int		(*fn)(struct app *a, int argc, char **argv);
};

int	verb_keygen(struct app *a, int argc, char **argv);
int	verb_pubkey(struct app *a, int argc, char **argv);
int	verb_vm(struct app *a, int argc, char **argv);
int	verb_cert(struct app *a, int argc, char **argv);
int	verb_keyserver(struct app *a, int argc, char **argv);

/*
 * Keystore, pinned key server key, known_hvs path; the user key (if
 * need_user) and the VM file of a->vmname.  Passphrases from /dev/tty.
 * Returns 0 or an exit code.
 */
int	app_load_keys(struct app *a, bool need_user);
void	app_free_keys(struct app *a);

#endif /* SCCRYPT_TERM_VERBS_H */
