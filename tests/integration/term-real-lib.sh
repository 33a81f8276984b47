# term-real-lib.sh — the real, attested stack for the sccrypt-term tests
# (source after tests/lib.sh and term-lib.sh).  It reuses attack-lib.sh's
# steps (swtpm, sccrypt-keyserver + sccrypt-attest giving a real VMM
# certificate for the key sccrypt-hvsim measured into PCR 15, hvsim with
# LUKS2 disks and per-guest input logs, consoled handing out the
# certificate) and binds the VMs with `sccrypt-term vm protect`, so the
# client connects on the certificate alone (no --trust-hv-key).
#
#   treal_up VM...      the whole stack; the owner's keystore is
#                       $T_TMP/home (SCCRYPT_HOME), every VM bound to it;
#                       $TREAL_POLICY: more consoled policy lines
#   treal_pipe VM       "sccrypt-term -H hv1 --pipe VM -- <the shim>" with
#                       extra options in $TREAL_OPTS
#   treal_keystore DIR  a second user's keystore (key + pinned key server)
#   guest_input VM      what VM's guest has received so far (hvsim's log)

. "$top_srcdir/tests/integration/attack-lib.sh"

TREAL_HOST=$HOSTNAME_
ME=$(id -u)

treal_up() {
	atk_need
	command -v tmux >/dev/null 2>&1 || t_skip "no tmux"
	atk_start_tpm
	atk_start_ks "$T_TMP/ks-main" main
	atk_enroll main "$TREAL_HOST"
	atk_start_hv "$@"
	atk_attest main "$TREAL_HOST" "$T_TMP/vmm.cert"
	cp "$T_TMP/vmm.cert" "$T_TMP/good.cert"
	for vm in "$@"; do echo "allow $ME $vm"; done >"$T_TMP/policy"
	[ -z "${TREAL_POLICY:-}" ] || echo "$TREAL_POLICY" >>"$T_TMP/policy"
	dom0_start_consoled <"$T_TMP/policy"	# not in a pipe: t_bg records it
	atk_client_setup
	for vm in "$@"; do atk_bind "$vm"; done
}

treal_pipe() {	# treal_pipe VM: the client command line (pipe mode, real shim)
	echo "$TERM_BIN -H $TREAL_HOST ${TREAL_OPTS:-} --pipe $1 -- $(shim_cmd "$1")"
}

treal_keystore() {	# treal_keystore DIR: a user with a key, the key server pinned
	mkdir -p "$1"
	chmod 700 "$1"
	SCCRYPT_HOME=$1 "$TERM_BIN" keygen -N >/dev/null || t_fail "keygen in $1"
	SCCRYPT_HOME=$1 "$TERM_BIN" keyserver pin "$T_TMP/main.pub" >/dev/null ||
	    t_fail "keyserver pin in $1"
}

guest_input() { cat "$T_TMP/$1.input" 2>/dev/null; }

# A pane running an interactive client: the term_pane_script of term-lib.sh.
treal_pane() {	# treal_pane NAME CMD...
	n=$1; shift
	term_pane_script "$T_TMP/$n" "$@"
	tmux_start "$T_TMP/$n"
}

# Type a line into the guest and wait for its unique output.
guest_run() {	# guest_run 'echo A$((1+2))B' A3B
	tmux_ send-keys "$1" Enter
	tmux_wait "$2"
}
