/*
 * prompt.h — questions to the user on /dev/tty, in cooked mode.
 * Passphrases go through lib/readpass.h (echo off), never through these.
 */
#ifndef SCCRYPT_TERM_PROMPT_H
#define SCCRYPT_TERM_PROMPT_H

#include <stddef.h>

/* "yes"/"no" question (ssh style: asks again until yes or no).  1 yes, 0 no,
 * negative when there is no terminal to ask on. */
int	prompt_yesno(const char *question);
/* One line with echo on into buf (newline stripped).  0 or SC_ERR_*. */
int	prompt_line(const char *prompt, char *buf, size_t bufsz)
	    __attribute__((warn_unused_result));
/* The policy/ssh "ask" callback form of prompt_yesno (ctx unused). */
int	prompt_ask_cb(void *ctx, const char *question);

#endif /* SCCRYPT_TERM_PROMPT_H */
