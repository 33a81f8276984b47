# User-space layer of libsccrypt and its tests (owner: user-lib work)

lib_libsccrypt_a_SOURCES += lib/log.c lib/secmem.c lib/io.c lib/keys.c \
	lib/cert.c lib/readpass.c
