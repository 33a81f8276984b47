# Frames, records, sealed blobs, ops header codec and their tests (owner: proto work)

lib_libsccrypt_a_SOURCES += lib/core/frame.c lib/core/record.c lib/core/blob.c \
	lib/core/ops.c
