# User-space layer of libsccrypt and its tests (owner: user-lib work)
