#!/bin/sh
# ibt-check.sh — CET-IBT: every function whose address is taken starts with
# ENDBR64.
#
# Xen builds with -fcf-protection=branch -mmanual-endbr: a function gets an
# ENDBR64 only if it is marked cf_check (SC_CF_CHECK in lib/core/compat.h),
# and an indirect call or jump to a function without one is a #CP fault on
# CET hardware (the lab's QEMU TCG has no CET, so only this static check
# can catch a missing mark).  The objects are linked into one image (at a
# fixed address, unresolved symbols at 0), then
#   * a function's address is "taken" if a code reference to its first byte
#     is anything but a direct call or jump (lea/mov of its address), or if
#     an aligned 8-byte word of a data section (.data, .rodata,
#     .data.rel.ro, .init.*, ...) holds that address (pointer tables such as
#     the crypto provider's struct sc_crypto, initcalls);
#   * each such function must start with endbr64; the check names every one
#     that does not, with where its address is taken;
#   * no other function may begin with ENDBR64: an unneeded one is a valid
#     indirect-branch target for nothing (what -mno-manual-endbr does to
#     every function that is not static).  This holds for every object
#     given, SCCrypt's own and the imported libsodium files alike (built
#     with -mmanual-endbr; hv/xen/crypto/sodium_cf_check.h marks the
#     libsodium functions that their implementation tables point to).
#
# usage: tests/xen-lab/ibt-check.sh [-m MIN] OBJECT...
#   -m MIN  also fail if fewer than MIN address-taken functions are found
#           (the caller's floor: a check that finds nothing checks nothing)
# Exit 0 if every address-taken function starts with endbr64 and no other
# function does, 1 otherwise.
set -eu

usage() { echo "usage: $0 [-m MIN] OBJECT..." >&2; exit 2; }
min=1
while getopts m: opt; do
	case $opt in
	m) min=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ "$#" -gt 0 ] || usage

LD=${LD:-ld}
OBJDUMP=${OBJDUMP:-objdump}
READELF=${READELF:-readelf}
NM=${NM:-nm}
OBJCOPY=${OBJCOPY:-objcopy}

w=$(mktemp -d "${TMPDIR:-/tmp}/ibt-check.XXXXXX")
trap 'rm -rf "$w"' EXIT
trap 'exit 1' INT TERM HUP

# Symbols the objects use but do not define (Xen's functions, memcpy) are
# placed at 0 by a linker script (hidden ones cannot stay undefined).  The
# image is below 2 GiB so that 32-bit PC-relative references to them still
# fit, and high enough that small constants never look like function
# addresses.
"$NM" --defined-only "$@" | awk 'NF == 3 { print $3 }' | LC_ALL=C sort -u >"$w/defined"
"$NM" -u "$@" | awk 'NF == 2 { print $2 }' | LC_ALL=C sort -u |
    LC_ALL=C comm -23 - "$w/defined" | sed 's/.*/"&" = 0;/' >"$w/undef.ld"
"$LD" -o "$w/img" -static -nostdlib -e 0 -Ttext-segment=0x5a000000 \
    "$@" "$w/undef.ld" 2>"$w/ld.err" ||
    { cat "$w/ld.err" >&2; echo "ibt-check: cannot link the objects" >&2; exit 1; }

# Function starts: "addr name" (addresses in lower-case hex, no leading 0s).
"$NM" -n --defined-only "$w/img" | awk '$2 ~ /^[tTwW]$/ {
	a = tolower($1); sub(/^0+/, "", a); print a, $3 }' >"$w/funcs"

# The first instruction of every function, and every code reference that
# is not a direct branch: "F addr first-insn" / "R target where".
"$OBJDUMP" -d -w --no-show-raw-insn "$w/img" | awk '
function norm(a) { a = tolower(a); sub(/^0x/, "", a); sub(/^0+/, "", a); return a }
/^[0-9a-f]+ <.*>:$/ { fn = $2; gsub(/[<>:]/, "", fn); start = norm($1); first = 1; next }
/^ *[0-9a-f]+:\t/ {
	split($0, t, "\t"); insn = t[2]
	if (first) {
		m = insn; sub(/ .*/, "", m)
		print "F", start, m
		first = 0
	}
	split(insn, f, /[ ,]+/)
	i = 1
	while (f[i] ~ /^(notrack|bnd|lock|rep|repz|repnz|data16|cs|ds|es|ss|fs|gs|addr32)$/)
		i++
	mn = f[i]; op = f[i + 1]
	# A direct call or jump to a function does not need its ENDBR64.
	if (mn ~ /^(call|jmp|j[a-z]+)q?$/ && op !~ /^\*/)
		next
	# RIP-relative operands: objdump appends "# target <sym>".
	if (match(insn, /# [0-9a-f]+ </)) {
		a = substr(insn, RSTART + 2, RLENGTH - 4)
		print "R", norm(a), fn
	}
	# Immediates ($0x...) and absolute operands.
	s = insn
	while (match(s, /\$0x[0-9a-f]+/)) {
		print "R", norm(substr(s, RSTART + 1, RLENGTH - 1)), fn
		s = substr(s, RSTART + RLENGTH)
	}
}' >"$w/code"

# Aligned 8-byte words of every allocated, non-executable, non-empty section
# (eh_frame holds only PC-relative offsets): "R value section+offset".
"$READELF" -SW "$w/img" | awk '
/^ *\[ *[0-9]+\]/ {
	sub(/^ *\[ *[0-9]+\] */, "")
	if ($2 == "PROGBITS" && $7 ~ /A/ && $7 !~ /X/ && $1 != ".eh_frame" && $1 != ".note.gnu.property")
		print $1, $3
}' >"$w/datasecs"
: >"$w/data"
while read -r sec addr; do
	"$OBJCOPY" -O binary --only-section="$sec" "$w/img" "$w/sec.bin"
	od -An -v -tx1 "$w/sec.bin" | awk -v sec="$sec" -v addr="$addr" '
	function hex2n(h,   i, n) {
		n = 0
		for (i = 1; i <= length(h); i++)
			n = n * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
		return n
	}
	{ for (i = 1; i <= NF; i++) b[nb++] = $i }
	END {
		# Pointers are 8-byte aligned in memory, not necessarily in
		# the section (its start is aligned to its own alignment).
		off = (8 - hex2n(addr) % 8) % 8
		for (; off + 8 <= nb; off += 8) {
			v = ""
			for (k = 7; k >= 0; k--)
				v = v b[off + k]
			sub(/^0+/, "", v)
			if (v != "")
				printf "R %s %s+0x%x\n", v, sec, off
		}
	}' >>"$w/data"
done <"$w/datasecs"

awk -v MIN="$min" '
FILENAME == ARGV[1] { name[$1] = $2; next }
$1 == "F" { firsti[$2] = $3; next }
$1 == "R" && ($2 in name) {
	if (!($2 in where)) { where[$2] = $3; order[++n] = $2 }
}
END {
	bad = 0
	for (k = 1; k <= n; k++) {
		a = order[k]
		if (firsti[a] == "endbr64") {
			printf "ok    %-40s address taken in %s\n", name[a], where[a]
		} else {
			printf "FAIL  %-40s address taken in %s, but it starts with %s, not endbr64\n", name[a], where[a], firsti[a]
			bad++
		}
		taken[a] = 1
	}
	unneeded = 0
	for (a in firsti) {
		if (firsti[a] == "endbr64" && !(a in taken)) {
			printf "FAIL  %-40s starts with endbr64, but nothing takes its address\n", name[a]
			unneeded++
			bad++
		}
	}
	printf "ibt-check: %d address-taken functions, %d without endbr64; %d functions with an unneeded endbr64\n", n, bad - unneeded, unneeded
	exit bad > 0 ? 1 : (n < MIN ? 3 : 0)
}' "$w/funcs" "$w/code" "$w/data" || {
	rc=$?
	[ "$rc" -eq 3 ] && echo "ibt-check: fewer than $min address-taken functions: the check found nothing to check" >&2
	exit 1
}
