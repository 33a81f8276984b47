/*
 * sccrypt_hvm.h — the console gfn of a PVH/HVM domain (sccrypt_hvm.c), for
 * sccrypt.c's attach and detach.
 *
 * sccrypt_hvm_console_check(): a->gfn/a->port must be the domain's
 *   HVM_PARAM_CONSOLE_PFN/_EVTCHN (-EINVAL) and no altp2m view active
 *   (-EPERM).
 * sccrypt_hvm_gfn_is_ram(): gfn maps page as p2m_ram_rw right now.
 * sccrypt_hvm_pin(): from now on the p2m code refuses to move or retype
 *   gfn; rechecks under the gfn lock (-EBUSY if it changed, -EEXIST if the
 *   domain has a pinned gfn already).  sccrypt_hvm_unpin() undoes it.
 */
#ifndef SCCRYPT_HVM_H
#define SCCRYPT_HVM_H

#ifdef CONFIG_HVM
long sccrypt_hvm_console_check(struct domain *d,
                               const struct xen_sccrypt_attach *a);
bool sccrypt_hvm_gfn_is_ram(struct domain *d, unsigned long gfn,
                            struct page_info *page);
long sccrypt_hvm_pin(struct domain *d, unsigned long gfn,
                     struct page_info *page);
void sccrypt_hvm_unpin(struct domain *d);
#endif

#endif /* SCCRYPT_HVM_H */
