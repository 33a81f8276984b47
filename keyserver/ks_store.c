/*
 * ks_store.c — pick the storage engine from the --db value.
 */
#include "config.h"

#include <string.h>

#include "ks_store.h"

int
ks_store_is_pg(const char *spec)
{
	return strncmp(spec, "postgresql://", 13) == 0 ||
	    strncmp(spec, "postgres://", 11) == 0;
}

int
ks_store_open(const char *spec, unsigned int conns, struct ks_store **out)
{
	if (ks_store_is_pg(spec))
		return ks_store_pg_open(spec, conns, out);
	return ks_store_sqlite_open(spec, out);
}
