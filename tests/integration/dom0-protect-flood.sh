#!/bin/sh
# dom0-protect-flood: K tenants' connections each sending N bad PROTECTs
# (fresh blobs with wrong disk keys: a full libcryptsetup check each) must
# not stall the other consoles.  Another client's --info on vm2 is answered
# within 3 checks' time (one check measured with cryptsetup on the same
# image; before the fix consoled waited for each read chunk's checks of
# every flooding connection: seconds); each flooding connection gets one
# refusal and is closed, and hvsim ran one check per connection, not N.
. "${top_srcdir}/tests/lib.sh"
. "${top_srcdir}/tests/integration/dom0-lib.sh"

dom0_need_stack
N=40
dom0_keys
dom0_start_hv vm1 vm2
# vm1's disk again (same volume key), with the digest a default LUKS2 image
# has (benchmarked iterations; the shared test images make checks cheap):
# one check then costs what the attack costs in the field.
cryptsetup luksFormat --type luks2 --batch-mode --volume-key-file "$T_TMP/vm1.vk" \
    --key-size 512 --pbkdf argon2id --pbkdf-memory 32 --pbkdf-parallel 1 \
    --iter-time 100 --key-file "$T_TMP/vm1.vk" "$T_TMP/vm1.img" >/dev/null 2>&1 ||
    t_fail "cryptsetup luksFormat failed"
dom0_start_consoled <<EOC
allow $(id -u) vm1
allow $(id -u) vm2
EOC

# Reference: one wrong-key check of vm1's image (plus a process start).
head -c 64 /dev/urandom >"$T_TMP/bad.vk"
t0=$(date +%s%N)
cryptsetup open --test-passphrase --volume-key-file "$T_TMP/bad.vk" "$T_TMP/vm1.img" \
    >/dev/null 2>&1 && t_fail "a random key opened the disk"
check_ms=$((($(date +%s%N) - t0) / 1000000))
# Before the fix consoled ran the checks of each read chunk (~10 blobs) of
# every flooding connection in turn before anything else: 10 checks and
# more per request.  After it, requests do not wait for checks at all.
bound_ms=$((3 * check_ms))
[ "$bound_ms" -ge 500 ] || bound_ms=500

K=2
for k in $(seq $K); do
	t_bg "$PROBE" --timeout 60 --protect-flood "$N" \
	    -- "$SHIM" -f "$T_TMP/sccrypt.conf" vm1 >"$T_TMP/flood.$k.out" 2>"$T_TMP/flood.$k.err"
	eval "flood$k=\$!"
done
for k in $(seq $K); do
	t_wait 300 grep -q "^flood sent $N" "$T_TMP/flood.$k.out" || t_fail "flood $k not sent"
done
# consoled has started on the flood once the first answer is logged.
t_wait 300 grep -q 'PROTECT of vm1 by uid .*: ' "$T_TMP/consoled.log" ||
    t_fail "no PROTECT reached the hypervisor"
max=0
for i in 1 2 3; do
	t0=$(date +%s%N)
	"$SHIM" -f "$T_TMP/sccrypt.conf" --info vm2 >"$T_TMP/info.out" 2>"$T_TMP/info.err" ||
	    t_fail "--info vm2 failed: $(cat "$T_TMP/info.err")"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -le "$max" ] || max=$ms
	grep -q '^vm=vm2 ' "$T_TMP/info.out" || t_fail "info: $(cat "$T_TMP/info.out")"
done
ms=$max
[ "$ms" -lt "$bound_ms" ] ||
    t_fail "--info vm2 took $ms ms during the flood (one check ~$check_ms ms, bound $bound_ms ms)"

for k in $(seq $K); do
	eval "p=\$flood$k"
	t_wait 300 sh -c "! kill -0 $p 2>/dev/null" || t_fail "flooding connection $k still open"
	wait "$p" || t_fail "flood probe $k: $(cat "$T_TMP/flood.$k.err")"
	[ "$(grep -c '^flood protect_ok' "$T_TMP/flood.$k.out")" = 1 ] ||
	    t_fail "answers to flood $k: $(cat "$T_TMP/flood.$k.out")"
	grep -q '^flood protect_ok status=-24$' "$T_TMP/flood.$k.out" ||
	    t_fail "not refused for the disk key: $(cat "$T_TMP/flood.$k.out")"
	grep -q '^flood closed' "$T_TMP/flood.$k.out" || t_fail "connection $k not closed"
done
checks=$(grep -c 'disk key rejected' "$T_TMP/hvsim.log" || true)
[ "$checks" = "$K" ] || t_fail "hvsim made $checks disk checks for $K connections"
t_pass "$K x $N bad PROTECTs: --info vm2 in at most $ms ms (bound $bound_ms, one check ~$check_ms ms), one refusal, connection closed"

# The same refused key again costs no check (remembered); a good bind works.
dom0_probe good --user-key "$T_TMP/user.key" --vm-secret "$T_TMP/vm1.secret" \
    --protect-disk-key "$T_TMP/vm1.vk" --send 'echo $((6*7))' --expect 42 \
    -- "$SHIM" -f "$T_TMP/sccrypt.conf" vm1
grep -q '^protect status=0$' "$T_TMP/good.out" || t_fail "good PROTECT"
t_pass "a good PROTECT after the flood binds and opens a session"
