/*
 * prompt.c — yes/no questions and plain lines on /dev/tty.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "core/err.h"
#include "prompt.h"
#include "term.h"

int
prompt_line(const char *prompt, char *buf, size_t bufsz)
{
	struct termios saved, t;
	bool restore = false;
	size_t n = 0;
	int fd;

	if (bufsz == 0)
		return SC_ERR_INVAL;
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return SC_ERR_NOTFOUND;
	/* Make sure the line is cooked with echo, whatever mode we were in. */
	if (tcgetattr(fd, &saved) == 0) {
		t = saved;
		t.c_lflag |= ICANON | ECHO | ISIG;
		t.c_iflag |= ICRNL;
		t.c_oflag |= OPOST;
		if (tcsetattr(fd, TCSAFLUSH, &t) == 0)
			restore = true;
	}
	(void)!write(fd, prompt, strlen(prompt));
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (restore)
				tcsetattr(fd, TCSAFLUSH, &saved);
			close(fd);
			return SC_ERR_EOF;
		}
		if (c == '\n' || c == '\r')
			break;
		if (n + 1 < bufsz)
			buf[n++] = c;
	}
	buf[n] = '\0';
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &saved);
	close(fd);
	return 0;
}

int
prompt_yesno(const char *question)
{
	char line[64];
	int tries;

	for (tries = 0; tries < 5; tries++) {
		if (prompt_line(tries ? "Please type 'yes' or 'no': " : question,
		    line, sizeof(line)) < 0)
			return -1;
		if (strcasecmp(line, "yes") == 0)
			return 1;
		if (strcasecmp(line, "no") == 0)
			return 0;
	}
	return 0;
}

int
prompt_ask_cb(void *ctx, const char *question)
{
	int r;

	(void)ctx;
	/* Ctrl-C here means no, at once: nothing is trusted or sent. */
	tty_abort_on_interrupt("at the hypervisor key question: nothing was "
	    "trusted or sent");
	r = prompt_yesno(question);
	tty_abort_on_interrupt(NULL);
	return r;
}
