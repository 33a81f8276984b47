# tests/integration/tmux-lib.sh — a private tmux server driving a real
# terminal, for the tests that need one (source after tests/lib.sh; sourced
# by term-lib.sh and lab-lib.sh).  The server is not our child: the sourcing
# script's EXIT trap must call tmux_stop before lib.sh's t_cleanup.
# Set before tmux_start / tmux_screen, or keep the defaults:
#   T_TMUX_COLS, T_TMUX_ROWS  the pane's size (120 x 40)
#   T_TMUX_HISTORY            the global history-limit (2000, tmux's own); set
#                             after the first pane exists, so that pane keeps
#                             2000 (tmux fixes it when a pane is made)
#   T_TMUX_CAPTURE            capture-pane options for tmux_screen (-S -200)
# Provides tmux_ (tmux on our socket), tmux_start SCRIPT, tmux_screen,
# tmux_has TEXT, tmux_count TEXT and tmux_stop; each sourcing library adds
# its own tmux_wait (its default wait and failure report).

TMUX_SOCK=$T_TMP/tmux.sock
: "${T_TMUX_COLS:=120}" "${T_TMUX_ROWS:=40}" "${T_TMUX_HISTORY:=2000}"
: "${T_TMUX_CAPTURE:=-S -200}"

tmux_() { tmux -S "$TMUX_SOCK" "$@"; }
tmux_start() {	# tmux_start SCRIPT: run a shell script in a fresh pane
	tmux_stop
	tmux_ -f /dev/null new-session -d -x "$T_TMUX_COLS" -y "$T_TMUX_ROWS" \
	    "TERM=tmux-256color sh $1"
	tmux_ set-option -g remain-on-exit on >/dev/null
	tmux_ set-option -g history-limit "$T_TMUX_HISTORY" >/dev/null
}
# shellcheck disable=SC2086	# T_TMUX_CAPTURE is a list of options
tmux_screen() { tmux_ capture-pane -p $T_TMUX_CAPTURE 2>/dev/null; }
tmux_has() { tmux_screen | grep -q -- "$1"; }
tmux_count() { tmux_screen | grep -c -- "$1" || true; }
tmux_stop() {
	tmux_ kill-server 2>/dev/null || true
	t_wait 30 sh -c "! tmux -S '$TMUX_SOCK' has-session 2>/dev/null" || true
	rm -f "$TMUX_SOCK"
}
