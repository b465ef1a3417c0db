//go:build fabric

#include "gcfabric.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_eq.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>

#define GCF_MAX_MR 64

// Operation contexts live here, so providers that ask for FI_CONTEXT or
// FI_CONTEXT2 scratch space get it; Go names an operation by its slot.
#define GCF_SLOTS GCF_MAX_SLOTS

struct gcf_ep {
	struct fi_info *info;
	struct fid_fabric *fabric;
	struct fid_domain *domain;
	struct fid_av *av;
	struct fid_cq *cq;   // transmit: the operations' completions
	struct fid_cq *rxcq; // receive: nothing is received; see gcf_post
	struct fid_ep *ep;
	int can_wait;
	// sync_err: the provider may fail an operation inside the post
	// without completing it (shm); posts are then serialized with mu so
	// that the failure it reports is the post's own.
	int sync_err;
	pthread_mutex_t mu;
	struct fid_mr *mr[GCF_MAX_MR];
	void *desc[GCF_MAX_MR];
	uint8_t addr[256];
	size_t addrlen;
	struct fi_context2 slots[GCF_SLOTS];
};

static int fail(char *err, size_t errlen, const char *what, int rc) {
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, fi_strerror(rc < 0 ? -rc : rc));
	return rc < 0 ? rc : -rc;
}

static int open_cq(gcf_ep *e, struct fid_cq **cq, enum fi_wait_obj wait) {
	struct fi_cq_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.format = FI_CQ_FORMAT_CONTEXT;
	attr.wait_obj = wait;
	attr.size = 4096;
	return fi_cq_open(e->domain, &attr, cq, NULL);
}

int gcf_open(const char *prov, const char *domain, const char *node, gcf_ep **out, char *err, size_t errlen) {
	struct fi_info *hints = fi_allocinfo();
	gcf_ep *e;
	int rc;
	*out = NULL;
	if (!hints)
		return fail(err, errlen, "fi_allocinfo", -FI_ENOMEM);
	e = calloc(1, sizeof *e);
	if (!e) {
		fi_freeinfo(hints);
		return fail(err, errlen, "calloc", -FI_ENOMEM);
	}
	pthread_mutex_init(&e->mu, NULL);
	hints->caps = FI_MSG | FI_RMA | FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE;
	hints->ep_attr->type = FI_EP_RDM;
	// The modes a client of the reference protocol also allows: the
	// provider picks what it needs among them.
	hints->domain_attr->mr_mode = FI_MR_LOCAL | FI_MR_ALLOCATED | FI_MR_PROV_KEY | FI_MR_VIRT_ADDR;
	hints->domain_attr->threading = FI_THREAD_SAFE;
	hints->mode = FI_CONTEXT | FI_CONTEXT2;
	if (prov && *prov)
		hints->fabric_attr->prov_name = strdup(prov);
	if (domain && *domain)
		hints->domain_attr->name = strdup(domain);
	rc = fi_getinfo(FI_VERSION(1, 17), (node && *node) ? node : NULL, NULL,
			(node && *node) ? FI_SOURCE : 0, hints, &e->info);
	fi_freeinfo(hints);
	if (rc) {
		free(e);
		return fail(err, errlen, "fi_getinfo", rc);
	}
	if ((rc = fi_fabric(e->info->fabric_attr, &e->fabric, NULL))) {
		gcf_close(e);
		return fail(err, errlen, "fi_fabric", rc);
	}
	if ((rc = fi_domain(e->fabric, e->info, &e->domain, NULL))) {
		gcf_close(e);
		return fail(err, errlen, "fi_domain", rc);
	}
	struct fi_av_attr av;
	memset(&av, 0, sizeof av);
	av.type = FI_AV_MAP;
	if ((rc = fi_av_open(e->domain, &av, &e->av, NULL))) {
		gcf_close(e);
		return fail(err, errlen, "fi_av_open", rc);
	}
	// A queue that can block spares the poller a busy loop; not every
	// provider has one.
	// NB: shm (1.17) accepts a waitable queue but its fi_cq_sread ignores
	// the timeout, which would hang the poller: it is polled instead.
	e->can_wait = strncmp(e->info->fabric_attr->prov_name, "shm", 3) != 0 &&
		open_cq(e, &e->cq, FI_WAIT_UNSPEC) == 0;
	if (!e->can_wait && (rc = open_cq(e, &e->cq, FI_WAIT_NONE))) {
		gcf_close(e);
		return fail(err, errlen, "fi_cq_open", rc);
	}
	// NB: shm (1.17) does an RMA with cross-memory attach inside the post
	// and, when that fails (an address the peer has not mapped), reports
	// it on the receive queue with no context and never completes the
	// operation. A receive queue of its own makes such a report the
	// failure of the post just made.
	e->sync_err = strncmp(e->info->fabric_attr->prov_name, "shm", 3) == 0;
	if ((rc = open_cq(e, &e->rxcq, FI_WAIT_NONE))) {
		gcf_close(e);
		return fail(err, errlen, "fi_cq_open", rc);
	}
	if ((rc = fi_endpoint(e->domain, e->info, &e->ep, NULL))) {
		gcf_close(e);
		return fail(err, errlen, "fi_endpoint", rc);
	}
	if ((rc = fi_ep_bind(e->ep, &e->av->fid, 0))) {
		gcf_close(e);
		return fail(err, errlen, "fi_ep_bind(av)", rc);
	}
	if ((rc = fi_ep_bind(e->ep, &e->cq->fid, FI_TRANSMIT))) {
		gcf_close(e);
		return fail(err, errlen, "fi_ep_bind(cq)", rc);
	}
	if ((rc = fi_ep_bind(e->ep, &e->rxcq->fid, FI_RECV))) {
		gcf_close(e);
		return fail(err, errlen, "fi_ep_bind(rx cq)", rc);
	}
	if ((rc = fi_enable(e->ep))) {
		gcf_close(e);
		return fail(err, errlen, "fi_enable", rc);
	}
	e->addrlen = sizeof e->addr;
	if ((rc = fi_getname(&e->ep->fid, e->addr, &e->addrlen))) {
		gcf_close(e);
		return fail(err, errlen, "fi_getname", rc);
	}
	*out = e;
	return 0;
}

void gcf_close(gcf_ep *e) {
	if (!e)
		return;
	// Endpoint first: it holds the queue and the vector.
	if (e->ep)
		fi_close(&e->ep->fid);
	for (int i = 0; i < GCF_MAX_MR; i++)
		if (e->mr[i])
			fi_close(&e->mr[i]->fid);
	if (e->cq)
		fi_close(&e->cq->fid);
	if (e->rxcq)
		fi_close(&e->rxcq->fid);
	if (e->av)
		fi_close(&e->av->fid);
	if (e->domain)
		fi_close(&e->domain->fid);
	if (e->fabric)
		fi_close(&e->fabric->fid);
	if (e->info)
		fi_freeinfo(e->info);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

const char *gcf_prov_name(gcf_ep *e) { return e->info->fabric_attr->prov_name; }
const char *gcf_fabric_name(gcf_ep *e) { return e->info->fabric_attr->name; }
const char *gcf_domain_name(gcf_ep *e) { return e->info->domain_attr->name; }
uint64_t gcf_mr_mode(gcf_ep *e) { return (uint64_t)e->info->domain_attr->mr_mode; }
int gcf_can_wait(gcf_ep *e) { return e->can_wait; }

size_t gcf_addr(gcf_ep *e, uint8_t *buf, size_t len) {
	if (len > e->addrlen)
		len = e->addrlen;
	memcpy(buf, e->addr, len);
	return e->addrlen;
}

int gcf_mr_reg(gcf_ep *e, uint64_t addr, uint64_t len, uint64_t access, uint64_t *key, int *handle, char *err, size_t errlen) {
	int i, rc;
	for (i = 0; i < GCF_MAX_MR && e->mr[i]; i++)
		;
	if (i == GCF_MAX_MR)
		return fail(err, errlen, "fi_mr_reg", -FI_ENOSPC);
	// requested_key matters only without FI_MR_PROV_KEY: make it unique.
	rc = fi_mr_reg(e->domain, (void *)(uintptr_t)addr, len, access, 0, (uint64_t)i + 1, 0, &e->mr[i], NULL);
	if (rc) {
		e->mr[i] = NULL;
		return fail(err, errlen, "fi_mr_reg", rc);
	}
	e->desc[i] = fi_mr_desc(e->mr[i]);
	*key = fi_mr_key(e->mr[i]);
	*handle = i;
	return 0;
}

void gcf_mr_close(gcf_ep *e, int handle) {
	if (handle < 0 || handle >= GCF_MAX_MR || !e->mr[handle])
		return;
	fi_close(&e->mr[handle]->fid);
	e->mr[handle] = NULL;
	e->desc[handle] = NULL;
}

int gcf_av_insert(gcf_ep *e, const uint8_t *addr, size_t len, uint64_t *peer) {
	fi_addr_t fa = FI_ADDR_NOTAVAIL;
	uint8_t tmp[256];
	// NB: providers read as many bytes as their address format says, so
	// a short address is padded rather than overrun.
	if (len > sizeof tmp)
		return -FI_EINVAL;
	memset(tmp, 0, sizeof tmp);
	memcpy(tmp, addr, len);
	int n = fi_av_insert(e->av, tmp, 1, &fa, 0, NULL);
	if (n != 1 || fa == FI_ADDR_NOTAVAIL)
		return n < 0 ? n : -FI_EADDRNOTAVAIL;
	*peer = fa;
	return 0;
}

int gcf_av_remove(gcf_ep *e, uint64_t peer) {
	fi_addr_t fa = peer;
	return fi_av_remove(e->av, &fa, 1, 0);
}

int gcf_post(gcf_ep *e, int write, int handle, uint64_t local, uint64_t len, uint64_t peer, uint64_t raddr, uint64_t rkey, uint64_t ctx) {
	if (ctx >= GCF_SLOTS)
		return -FI_EINVAL;
	void *desc = (handle >= 0 && handle < GCF_MAX_MR) ? e->desc[handle] : NULL;
	struct iovec iov = {(void *)(uintptr_t)local, len};
	struct fi_rma_iov rma = {raddr, len, rkey};
	struct fi_msg_rma msg;
	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.desc = &desc;
	msg.iov_count = 1;
	msg.addr = peer;
	msg.rma_iov = &rma;
	msg.rma_iov_count = 1;
	msg.context = &e->slots[ctx];
	// A write completes only once the peer has taken the bytes, so that a
	// bad key or address on the peer's side fails the write here rather
	// than vanishing (shm completes small writes once queued otherwise).
	if (!e->sync_err) {
		if (write)
			return (int)fi_writemsg(e->ep, &msg, FI_COMPLETION | FI_DELIVERY_COMPLETE);
		return (int)fi_readmsg(e->ep, &msg, FI_COMPLETION);
	}
	pthread_mutex_lock(&e->mu);
	ssize_t rc = write ? fi_writemsg(e->ep, &msg, FI_COMPLETION | FI_DELIVERY_COMPLETE)
			   : fi_readmsg(e->ep, &msg, FI_COMPLETION);
	if (rc == 0) {
		struct fi_cq_err_entry ce;
		memset(&ce, 0, sizeof ce);
		if (fi_cq_readerr(e->rxcq, &ce, 0) > 0)
			rc = ce.err ? -ce.err : -FI_EIO;
	}
	pthread_mutex_unlock(&e->mu);
	return (int)rc;
}

static uint64_t slot_of(gcf_ep *e, void *c) {
	return (uint64_t)((struct fi_context2 *)c - e->slots);
}

int gcf_poll(gcf_ep *e, uint64_t *ctx, int *status, int max, int timeout_ms) {
	struct fi_cq_entry ent[64];
	ssize_t n;
	if (max > 64)
		max = 64;
	if (timeout_ms > 0 && e->can_wait)
		n = fi_cq_sread(e->cq, ent, max, NULL, timeout_ms);
	else
		n = fi_cq_read(e->cq, ent, max);
	if (n == -FI_EAGAIN)
		return 0;
	if (n == -FI_EAVAIL) {
		struct fi_cq_err_entry err;
		memset(&err, 0, sizeof err);
		n = fi_cq_readerr(e->cq, &err, 0);
		if (n == -FI_EAGAIN)
			return 0;
		if (n < 0)
			return (int)n;
		ctx[0] = slot_of(e, err.op_context);
		status[0] = err.err ? -err.err : -FI_EOTHER;
		return 1;
	}
	if (n < 0)
		return (int)n;
	for (ssize_t i = 0; i < n; i++) {
		ctx[i] = slot_of(e, ent[i].op_context);
		status[i] = 0;
	}
	return (int)n;
}

const char *gcf_strerror(int err) { return fi_strerror(err < 0 ? -err : err); }
