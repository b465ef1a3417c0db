// gcfabric: the few libfabric calls gpucache makes, wrapped so that Go
// passes plain integers (addresses, keys, contexts) and never a Go pointer
// that C keeps.
#ifndef GCFABRIC_H
#define GCFABRIC_H

#include <stddef.h>
#include <stdint.h>

typedef struct gcf_ep gcf_ep;

// GCF_MAX_SLOTS bounds the operations in flight on one endpoint; ctx in
// gcf_post is a slot below it.
#define GCF_MAX_SLOTS 4096

// gcf_open opens fabric, domain, address vector, completion queue and an
// RDM endpoint of provider prov (e.g. "tcp;ofi_rxm", "shm"). domain and
// node may be NULL or empty. On failure it returns a negative libfabric
// error and writes a message into err.
int gcf_open(const char *prov, const char *domain, const char *node, gcf_ep **out, char *err, size_t errlen);
void gcf_close(gcf_ep *e);

// What the provider chose.
const char *gcf_prov_name(gcf_ep *e);
const char *gcf_fabric_name(gcf_ep *e);
const char *gcf_domain_name(gcf_ep *e);
uint64_t gcf_mr_mode(gcf_ep *e);
size_t gcf_addr(gcf_ep *e, uint8_t *buf, size_t len);
int gcf_can_wait(gcf_ep *e);

// Memory registration. access is a mask of FI_READ/FI_WRITE/FI_REMOTE_*;
// the returned handle indexes the endpoint's table of regions.
int gcf_mr_reg(gcf_ep *e, uint64_t addr, uint64_t len, uint64_t access, uint64_t *key, int *handle, char *err, size_t errlen);
void gcf_mr_close(gcf_ep *e, int handle);

int gcf_av_insert(gcf_ep *e, const uint8_t *addr, size_t len, uint64_t *peer);
int gcf_av_remove(gcf_ep *e, uint64_t peer);

// One RMA operation from/into local memory registered as region handle
// (-1: none needed). Returns 0 or a negative libfabric error (-FI_EAGAIN
// when the queue is full: progress and retry).
int gcf_post(gcf_ep *e, int write, int handle, uint64_t local, uint64_t len, uint64_t peer, uint64_t raddr, uint64_t rkey, uint64_t ctx);

// gcf_poll reads up to max completions: ctx[i] and status[i] (0, or a
// negative libfabric error of a failed operation). It returns how many,
// or a negative error of the queue itself. timeout_ms > 0 blocks up to
// that long when the queue supports waiting.
int gcf_poll(gcf_ep *e, uint64_t *ctx, int *status, int max, int timeout_ms);

const char *gcf_strerror(int err);

#endif
