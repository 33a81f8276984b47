# tests/integration/ks-eklib.sh — software TPMs "manufactured" by a local
# test CA, as a TPM vendor ships them: swtpm_setup creates the EK and
# stores its certificate, signed by the CA, in NV (source after
# tests/lib.sh; not a test itself).
#
# ks_ek_ca DIR: a test CA (swtpm_localca state) in DIR; DIR/bundle.pem is
#   what the key server's --ek-ca-bundle takes.
# ks_ek_tpm DIR CADIR: a TPM state in DIR whose RSA EK certificate CADIR
#   signed.
# ks_ek_swtpm DIR: start swtpm on that state; sets EK_TCTI, EK_PID.

ks_ek_ca() {
	mkdir -p "$1"
	cat >"$1/localca.conf" <<CONF
statedir = $1
signingkey = $1/signkey.pem
issuercert = $1/issuercert.pem
certserial = $1/certserial
CONF
	cat >"$1/localca.options" <<CONF
--platform-manufacturer SCCryptTest
--platform-version 1
--platform-model TestTPM
CONF
	cat >"$1/swtpm_setup.conf" <<CONF
create_certs_tool = $(command -v swtpm_localca)
create_certs_tool_config = $1/localca.conf
create_certs_tool_options = $1/localca.options
active_pcr_banks = sha256
CONF
}

ks_ek_tpm() {
	mkdir -p "$1"
	swtpm_setup --tpm2 --tpmstate "$1" --config "$2/swtpm_setup.conf" \
		--create-ek-cert --createek --lock-nvram --overwrite \
		>"$1.setup.log" 2>&1 ||
		{ cat "$1.setup.log" >&2; t_fail "swtpm_setup $1"; }
	# The CA's root and intermediate, created by the first setup.
	[ -s "$2/bundle.pem" ] ||
		cat "$2/issuercert.pem" "$2/swtpm-localca-rootca-cert.pem" \
			>"$2/bundle.pem"
}

ks_ek_swtpm() {
	_p=$(t_free_port_pair)
	[ -n "$_p" ] || t_fail "no two adjacent free ports for swtpm"
	t_bg swtpm socket --tpm2 \
		--server type=tcp,port=$_p,bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=$((_p + 1)),bindaddr=127.0.0.1 \
		--tpmstate dir="$1" --flags not-need-init,startup-clear
	EK_PID=$!
	EK_TCTI="swtpm:host=127.0.0.1,port=$_p"
	t_wait 100 env TPM2TOOLS_TCTI="$EK_TCTI" tpm2_pcrread sha256:0 \
		>/dev/null || t_fail "swtpm on $1 did not start"
}
