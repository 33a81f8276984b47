/*
 * keystore.c — where the user's keys live: $SCCRYPT_HOME, else
 * $XDG_CONFIG_HOME/sccrypt, else ~/.config/sccrypt, created mode 0700.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "keystore.h"

/* mkdir -p with mode 0700 for every directory we create. */
static int
sc_mkdir_p(char *path)
{
	char *p;
	struct stat st;

	for (p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		{
			char c = *p;

			*p = '\0';
			if (mkdir(path, 0700) == -1 && errno != EEXIST) {
				*p = c;
				return errno == EACCES ? SC_ERR_PERM : SC_ERR_SYSTEM;
			}
			if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
				*p = c;
				return SC_ERR_TYPE;
			}
			*p = c;
		}
		if (*p == '\0')
			break;
		while (p[1] == '/')
			p++;
	}
	return 0;
}

/*
 * Resolve the keystore: $SCCRYPT_HOME, else $XDG_CONFIG_HOME/sccrypt (only
 * if absolute, as the XDG spec requires), else $HOME/.config/sccrypt (HOME
 * from the password database if unset).  With create, missing directories
 * are made with mode 0700.  An existing keystore must be a directory owned
 * by the caller and not writable by group or others (SC_ERR_PERM).
 */
int
sc_keystore_dir(char *out, size_t outsz, int create)
{
	const char *env, *home;
	struct passwd *pw;
	struct stat st;
	int n, r;

	if (out == NULL || outsz == 0)
		return SC_ERR_INVAL;
	if ((env = getenv("SCCRYPT_HOME")) != NULL && env[0] != '\0')
		n = snprintf(out, outsz, "%s", env);
	else if ((env = getenv("XDG_CONFIG_HOME")) != NULL && env[0] == '/')
		n = snprintf(out, outsz, "%s/sccrypt", env);
	else {
		if ((home = getenv("HOME")) == NULL || home[0] != '/') {
			if ((pw = getpwuid(getuid())) == NULL || pw->pw_dir == NULL)
				return SC_ERR_NOTFOUND;
			home = pw->pw_dir;
		}
		n = snprintf(out, outsz, "%s/.config/sccrypt", home);
	}
	if (n < 0 || (size_t)n >= outsz)
		return SC_ERR_NOSPACE;
	/* Drop trailing slashes (but keep "/"). */
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	if (stat(out, &st) == -1) {
		if (errno != ENOENT)
			return errno == EACCES ? SC_ERR_PERM : SC_ERR_SYSTEM;
		if (!create)
			return SC_ERR_NOTFOUND;
		if ((r = sc_mkdir_p(out)) < 0)
			return r;
		if (stat(out, &st) == -1)
			return SC_ERR_SYSTEM;
	}
	if (!S_ISDIR(st.st_mode))
		return SC_ERR_TYPE;
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		return SC_ERR_PERM;
	return 0;
}
