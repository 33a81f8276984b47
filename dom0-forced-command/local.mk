# dom0-forced-command build rules (included from the top Makefile.am)
