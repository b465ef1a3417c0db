/*
 * blob_hello: the BLOB.* fast-path handshake in plain C, for programs that
 * embed it without the Go client. It opens a libfabric RDM endpoint,
 * registers one buffer, says BLOB.HELLO on a RESP connection, stores the
 * buffer with BLOB.SET (the server reads it with fi_read), fetches it back
 * into a second buffer with BLOB.GET (the server writes it with fi_write),
 * and checks every byte and the CRC32C the server answers with.
 *
 *   cc -O2 -o blob_hello blob_hello.c -lfabric
 *   ./blob_hello 127.0.0.1 6379 shm
 *   ./blob_hello 127.0.0.1 6379 'tcp;ofi_rxm' lo 127.0.0.1
 *
 * The client is passive during transfers, but libfabric's software
 * providers progress only while the completion queue is read, so it reads
 * its queue while it waits for each reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_eq.h>

#define LEN (4u << 20)

static void die(const char *what, int rc) {
	fprintf(stderr, "blob_hello: %s: %s\n", what, rc < 0 ? fi_strerror(-rc) : strerror(rc));
	exit(1);
}

static uint32_t crc32c(const uint8_t *p, size_t n) {
	uint32_t c = ~0u;
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & -(c & 1));
	}
	return ~c;
}

static struct fid_cq *cq;

/* complete reports whether buf holds a whole reply of the kinds used
 * here: a line (+, -, :), or an array of lines and short bulk strings. */
static int complete(const char *buf) {
	const char *q = strstr(buf, "\r\n");
	if (!q)
		return 0;
	if (buf[0] != '*')
		return 1;
	int want = atoi(buf + 1);
	q += 2;
	for (int i = 0; i < want; i++) {
		const char *e = strstr(q, "\r\n");
		if (!e)
			return 0;
		if (*q == '$') {
			e = strstr(e + 2, "\r\n");
			if (!e)
				return 0;
		}
		q = e + 2;
	}
	return 1;
}

/* reply reads one RESP reply line (and a bulk's body, discarded) into buf,
 * reading the completion queue while it waits. */
static void reply(int fd, char *buf, size_t cap) {
	size_t n = 0;
	for (;;) {
		struct fi_cq_entry e;
		fi_cq_read(cq, &e, 1); /* progress: the server's RMA lands meanwhile */
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 1) <= 0)
			continue;
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r <= 0)
			die("read", r < 0 ? errno : ECONNRESET);
		n += r;
		buf[n] = 0;
		if (complete(buf))
			return;
	}
}

static void command(int fd, int argc, char **argv) {
	char head[64];
	dprintf(fd, "*%d\r\n", argc);
	for (int i = 0; i < argc; i++) {
		snprintf(head, sizeof head, "$%zu\r\n", strlen(argv[i]));
		if (write(fd, head, strlen(head)) < 0 || write(fd, argv[i], strlen(argv[i])) < 0 || write(fd, "\r\n", 2) < 0)
			die("write", errno);
	}
}

int main(int argc, char **argv) {
	if (argc < 4) {
		fprintf(stderr, "usage: blob_hello HOST PORT PROVIDER [DOMAIN NODE]\n");
		return 2;
	}
	struct fi_info *hints = fi_allocinfo(), *info;
	hints->caps = FI_MSG | FI_RMA | FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE;
	hints->ep_attr->type = FI_EP_RDM;
	hints->domain_attr->mr_mode = FI_MR_LOCAL | FI_MR_ALLOCATED | FI_MR_PROV_KEY | FI_MR_VIRT_ADDR;
	hints->fabric_attr->prov_name = strdup(argv[3]);
	if (argc > 4)
		hints->domain_attr->name = strdup(argv[4]);
	const char *node = argc > 5 ? argv[5] : NULL;
	int rc = fi_getinfo(FI_VERSION(1, 17), node, NULL, node ? FI_SOURCE : 0, hints, &info);
	if (rc)
		die("fi_getinfo", rc);
	struct fid_fabric *fab;
	struct fid_domain *dom;
	struct fid_av *av;
	struct fid_ep *ep;
	struct fid_mr *mr_in, *mr_out;
	struct fi_av_attr ava = {.type = FI_AV_MAP};
	struct fi_cq_attr cqa = {.format = FI_CQ_FORMAT_CONTEXT};
	if ((rc = fi_fabric(info->fabric_attr, &fab, NULL)) || (rc = fi_domain(fab, info, &dom, NULL)) ||
	    (rc = fi_av_open(dom, &ava, &av, NULL)) || (rc = fi_cq_open(dom, &cqa, &cq, NULL)) ||
	    (rc = fi_endpoint(dom, info, &ep, NULL)) || (rc = fi_ep_bind(ep, &av->fid, 0)) ||
	    (rc = fi_ep_bind(ep, &cq->fid, FI_TRANSMIT | FI_RECV)) || (rc = fi_enable(ep)))
		die("opening the endpoint", rc);
	int virt = (info->domain_attr->mr_mode & FI_MR_VIRT_ADDR) != 0;

	/* Two buffers outside any allocator's reach, registered for the
	 * server's reads and writes. */
	uint8_t *out = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *in = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (size_t i = 0; i < LEN; i++)
		out[i] = (uint8_t)(i * 131 + (i >> 11));
	uint64_t access = FI_READ | FI_WRITE | FI_REMOTE_READ | FI_REMOTE_WRITE;
	if ((rc = fi_mr_reg(dom, out, LEN, access, 0, 1, 0, &mr_out, NULL)) ||
	    (rc = fi_mr_reg(dom, in, LEN, access, 0, 2, 0, &mr_in, NULL)))
		die("fi_mr_reg", rc);

	uint8_t addr[256];
	size_t alen = sizeof addr;
	if ((rc = fi_getname(&ep->fid, addr, &alen)))
		die("fi_getname", rc);
	char hex[2 * sizeof addr + 1];
	for (size_t i = 0; i < alen; i++)
		sprintf(hex + 2 * i, "%02x", addr[i]);

	struct addrinfo *ai;
	if (getaddrinfo(argv[1], argv[2], &(struct addrinfo){.ai_socktype = SOCK_STREAM}, &ai))
		die("getaddrinfo", EINVAL);
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen))
		die("connect", errno);

	static char buf[8192];
	command(fd, 2, (char *[]){"BLOB.HELLO", hex});
	reply(fd, buf, sizeof buf);
	if (buf[0] != '*') {
		fprintf(stderr, "BLOB.HELLO: %s", buf);
		return 1;
	}
	/* Insert the server's addresses (efa needs them; others accept them). */
	for (char *q = strstr(buf, "\r\n$"); q; q = strstr(q + 2, "\r\n$")) {
		char *h = strstr(q + 3, "\r\n") + 2;
		uint8_t sa[256];
		size_t n = 0;
		while (h[2 * n] && h[2 * n] != '\r' && n < sizeof sa) {
			unsigned x;
			sscanf(h + 2 * n, "%2x", &x);
			sa[n++] = (uint8_t)x;
		}
		fi_addr_t peer;
		if (fi_av_insert(av, sa, 1, &peer, 0, NULL) != 1)
			die("fi_av_insert", EINVAL);
		q = h;
	}

	char key_out[32], a_out[32], k_in[32], a_in[32], len[32];
	snprintf(key_out, sizeof key_out, "%llu", (unsigned long long)fi_mr_key(mr_out));
	snprintf(a_out, sizeof a_out, "%llu", (unsigned long long)(virt ? (uintptr_t)out : 0));
	snprintf(k_in, sizeof k_in, "%llu", (unsigned long long)fi_mr_key(mr_in));
	snprintf(a_in, sizeof a_in, "%llu", (unsigned long long)(virt ? (uintptr_t)in : 0));
	snprintf(len, sizeof len, "%u", LEN);

	command(fd, 6, (char *[]){"BLOB.SET", "c-example", len, key_out, a_out, len});
	reply(fd, buf, sizeof buf);
	if (strncmp(buf, "+OK", 3)) {
		fprintf(stderr, "BLOB.SET: %s", buf);
		return 1;
	}
	command(fd, 5, (char *[]){"BLOB.GET", "c-example", k_in, a_in, len});
	reply(fd, buf, sizeof buf);
	long long n = -1, crc = -1;
	if (sscanf(buf, "*2\r\n:%lld\r\n:%lld", &n, &crc) != 2) {
		fprintf(stderr, "BLOB.GET: %s", buf);
		return 1;
	}
	if (n != LEN || memcmp(in, out, LEN) || (uint32_t)crc != crc32c(out, LEN)) {
		fprintf(stderr, "BLOB.GET: %lld bytes, crc %08llx (want %u, %08x); bytes %s\n", n, crc, LEN,
			crc32c(out, LEN), memcmp(in, out, LEN) ? "differ" : "match");
		return 1;
	}
	printf("ok: %s stored and fetched %u bytes over %s, crc32c %08x\n", "c-example", LEN,
	       info->fabric_attr->prov_name, (uint32_t)crc);
	close(fd);
	fi_close(&mr_in->fid);
	fi_close(&mr_out->fid);
	fi_close(&ep->fid);
	fi_close(&cq->fid);
	fi_close(&av->fid);
	fi_close(&dom->fid);
	fi_close(&fab->fid);
	fi_freeinfo(info);
	return 0;
}
