#!/bin/sh
# sccrypt-webgate configured by the [webgate] section of sccrypt.conf(5)
# (-f): the same file sccrypt-consoled reads, which skips the section (and
# refuses an unknown one).  Strict parsing: an unknown key, a relative path
# or a missing section stops the gateway (exit 78, the line number, never
# the line's content).  Then, on the real stack, a gateway started with
# nothing but -f carries a session; its origin lines replace the default
# allow list, and a command-line option overrides the file.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/web/lib.sh"
w_need_node
. "$top_srcdir/tests/integration/term-lib.sh"
. "$top_srcdir/tests/integration/term-real-lib.sh"
w_need_gate
CONSOLED=$top_builddir/consoled/sccrypt-consoled

# 1. consoled skips [webgate], refuses an unknown section (line number).
c=$T_TMP/parse.conf
printf 'listen = %s/x.sock\nallow %s vm1\n\n[webgate]\nlisten = 127.0.0.1:1\ntokens = /nonexistent\n' "$T_TMP" "$(id -un)" >"$c"
"$CONSOLED" -f "$c" -t >"$T_TMP/t1.out" 2>&1 || { cat "$T_TMP/t1.out" >&2; t_fail "consoled refused a [webgate] section"; }
printf 'listen = %s/x.sock\n[nosuch]\nkey = v\n' "$T_TMP" >"$c"
"$CONSOLED" -f "$c" -t >"$T_TMP/t2.out" 2>&1 && t_fail "consoled accepted an unknown section"
grep -q 'line 2: unknown section' "$T_TMP/t2.out" || { cat "$T_TMP/t2.out" >&2; t_fail "no line number for the unknown section"; }
t_pass "consoled: [webgate] skipped, [nosuch] refused at line 2"

# 2. the gateway's strictness: exit 78 with FILE:LINE and the reason.
gate_bad() {	# gate_bad WHAT EXPECTED-TEXT: the file $c must be refused
	rc=0
	"$WEBGATE" -f "$c" >"$T_TMP/bad.out" 2>&1 || rc=$?
	[ "$rc" = 78 ] && grep -q "$2" "$T_TMP/bad.out" ||
	    { cat "$T_TMP/bad.out" >&2; t_fail "$1: exit $rc"; }
	! grep -q SECRETWORD "$T_TMP/bad.out" || t_fail "$1: the line's content was echoed"
}
printf 'listen = /x.sock\n[webgate]\ntokens = /t\ntokenz = SECRETWORD\n' >"$c"
gate_bad "unknown key" "parse.conf:4: unknown key in \[webgate\]"
printf '[webgate]\ntokens = SECRETWORD\n' >"$c"
gate_bad "relative path" "parse.conf:2: path must be absolute"
printf '[webgate]\nidle_timeout = 0\n' >"$c"
gate_bad "idle 0" "parse.conf:2: number missing or out of range"
printf '[webgate]\ntokens = /t\n[webgate]\nplaintext = yes\n' >"$c"
gate_bad "section twice" "parse.conf:3: section given twice"
printf 'listen = /x.sock\nallow alice vm1\n' >"$c"
gate_bad "no section" "no \[webgate\] section"
printf 'listen = /x.sock\n\001 = SECRETWORD\n[webgate]\ntokens = /t\n' >"$c"
gate_bad "a control byte in consoled's part" "parse.conf:2: control character"
t_pass "gateway: unknown key, relative path, range, duplicate section, no section, bad bytes -> exit 78 with the line"

# 3. on the real stack: the gateway from the file alone.
treal_up vm1
WG_TOKEN=$("$WEBGATE" --new-token "$(id -un)" 2>"$T_TMP/token.line") || t_fail "--new-token"
tail -n 1 "$T_TMP/token.line" >"$T_TMP/webgate.tokens"
chmod 600 "$T_TMP/webgate.tokens"
w_make_ca "$T_TMP"
WG_PORT=$(t_free_port)
WG_URL=wss://127.0.0.1:$WG_PORT/
cat >>"$T_TMP/sccrypt.conf" <<CONF

[webgate]
listen = 127.0.0.1:$WG_PORT
consoled_socket = $T_TMP/cd.sock
tokens = $T_TMP/webgate.tokens
tls_certificate = $T_TMP/gw.crt
tls_key = $T_TMP/gw.key
origin = https://console.example
max_per_user = 2
idle_timeout = 60
CONF
kill -HUP "$CONSOLED_PID"
t_bg "$WEBGATE" -f "$T_TMP/sccrypt.conf" 2>"$T_TMP/webgate.log"
GPID=$!
t_wait 100 grep -q "listening on wss://127.0.0.1:$WG_PORT/, relay $T_TMP/cd.sock" "$T_TMP/webgate.log" ||
    { cat "$T_TMP/webgate.log" >&2; t_fail "the gateway did not start from the file"; }
rc=$(printf 'echo C$((6*7))F\n' | w_client "$T_TMP/s1" --vm vm1 --origin https://console.example --expect C42F)
[ "$rc" = 0 ] && grep -q 'C42F' "$T_TMP/s1" || { cat "$T_TMP/s1.err" >&2; t_fail "session through the file-configured gateway: exit $rc"; }
kill -0 "$CONSOLED_PID" || t_fail "consoled died on the reload with a [webgate] section"
t_pass "session through a gateway configured only by sccrypt.conf [webgate] (C42F); consoled reloaded the same file"
rc=$(printf 'echo BAD\n' | w_client "$T_TMP/s2" --vm vm1 --origin null)
[ "$rc" = 3 ] && grep -q "Origin 'null' not allowed" "$T_TMP/webgate.log" ||
    { cat "$T_TMP/s2.err" >&2; t_fail "origin null allowed though the file's origin lines replace the defaults: exit $rc"; }
t_pass "the file's origin lines replace the default list (null refused)"
kill "$GPID"
t_wait 100 sh -c "! kill -0 $GPID 2>/dev/null" || t_fail "gateway did not stop"

# 4. the command line overrides the file: -o null replaces its origins.
t_bg "$WEBGATE" -f "$T_TMP/sccrypt.conf" -o null 2>"$T_TMP/webgate2.log"
t_wait 100 grep -q "listening on wss://127.0.0.1:$WG_PORT/" "$T_TMP/webgate2.log" ||
    { cat "$T_TMP/webgate2.log" >&2; t_fail "the gateway did not restart"; }
rc=$(printf 'echo D$((6*7))G\n' | w_client "$T_TMP/s3" --vm vm1 --origin null --expect D42G)
[ "$rc" = 0 ] && grep -q 'D42G' "$T_TMP/s3" || { cat "$T_TMP/s3.err" >&2; t_fail "-o null did not override the file: exit $rc"; }
t_pass "-o on the command line overrides the file's origins"
