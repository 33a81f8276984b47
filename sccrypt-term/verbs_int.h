/*
 * verbs_int.h — what sccrypt-term's verb families (verbs.c, verbs_vm.c,
 * verbs_cert.c) share: option parsing and the keystore.
 */
#ifndef SCCRYPT_TERM_VERBS_INT_H
#define SCCRYPT_TERM_VERBS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"

/*
 * A verb's options: each either takes a value (str) or is a flag.  The
 * table ends with a NULL name.
 */
struct verb_opt {
	const char	 *name;
	const char	**str;		/* "--opt VALUE": the value, or NULL */
	bool		 *flag;		/* "--opt": set to true, or NULL */
};

/*
 * Parse argv[first..argc) against opts.  Returns 0, or -1 on an unknown
 * option or an option missing its value (the caller prints its usage).
 */
int	verb_opts(int argc, char **argv, int first, const struct verb_opt *opts);
/* The path of name inside the keystore (open_store first); -1 if too long. */
int	path_in_store(const struct app *a, const char *name, char *out,
	    size_t outsz);
/* Find (or, if create, make) the keystore; 0 or an exit code. */
int	open_store(struct app *a, bool create);
/* Ask twice for a new passphrase (none: empty); 0 or an exit code. */
int	new_passphrase(bool none, char **pass);

#endif /* SCCRYPT_TERM_VERBS_INT_H */
