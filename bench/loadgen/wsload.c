/*
 * wsload: a small single-threaded epoll WebSocket load generator for the Chatterbox benchmarks.
 *
 * It opens N client connections (RFC 6455, no extensions, optional Authorization header and
 * subprotocol), has the connections marked as senders send frames (saturated with a window of
 * outstanding messages, or open-loop at a fixed total rate), reads every frame, counts deliveries
 * and measures latency from a CLOCK_MONOTONIC timestamp embedded in each message body.
 *
 * Modes: "plain" (baseline broadcast servers: every text frame carrying a marker is a delivery),
 * "echo" (every reply is a delivery), "chatterbox" (the chatterbox.v1 protocol: wait for hello,
 * count message.created, acks and errors; optionally answer delivered receipts and send typing).
 *
 * Protocol with the runner: progress lines on stdout ("READY", "MEASURE_START", "MEASURE_END"),
 * flushed at once, then one JSON object with the results on the last line.
 *
 * Build: gcc -O2 -Wall -Wextra -o wsload wsload.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { MODE_PLAIN, MODE_ECHO, MODE_CHATTERBOX };
enum cstate { CS_IDLE, CS_CONNECTING, CS_HANDSHAKE, CS_WAIT_HELLO, CS_OPEN, CS_CLOSED, CS_FAILED };

typedef struct {
	char *data;
	size_t len, cap, off;
} buf_t;

typedef struct {
	int fd;
	int idx;
	enum cstate state;
	int sender;
	int room;          /* index into rooms[] */
	char *path, *token, *room_id;
	buf_t in, out;
	buf_t frag;        /* fragmented message being assembled */
	int want_out;      /* EPOLLOUT registered */
	uint64_t t_connect, t_ready;
	/* sender state */
	uint64_t sent, own_recv, acked, seq;
	uint64_t next_send_ns;
	uint64_t next_typing_ns;
	/* receipts */
	int receipt_inflight;
	uint64_t receipt_due_ns;   /* paced receipt scheduled for this time; 0 = none, or RECEIPT_AFTER_ACK */
	int64_t receipt_pending_seq, receipt_sent_seq;
	char receipt_msg_id[40];
	uint64_t receipts_sent, typing_sent, cmd_id;
} conn_t;

typedef struct {
	char *id;
	int members;
} room_t;

/* ---- options ---- */
static const char *opt_host = "127.0.0.1";
static int opt_port = 8000;
static const char *opt_spec;
static const char *opt_proto;
static enum mode opt_mode = MODE_PLAIN;
static double opt_rate;         /* total messages/s over all senders; 0 = saturated */
static int opt_window = 4;
static double opt_warmup = 1.0, opt_duration = 3.0, opt_drain = 3.0;
static int opt_receipts;
static int opt_receipt_ms = 150; /* like the browser client: at most one delivered receipt per room per 150 ms */
static int opt_typing_ms;
static int opt_conc = 200;      /* connections in handshake at once */
static double opt_hold = -1;    /* idle mode: hold seconds after READY, send nothing */
static double opt_connect_timeout = 120.0;
static int opt_body_pad = 40;
static const char *opt_resume_room;
static long opt_resume_after = -1;
static int opt_quiet;

/* ---- state ---- */
static conn_t *conns;
static int nconns;
static room_t *rooms;
static int nrooms;
static int ep;
static char run_nonce[24];
static uint32_t rng = 2463534242u;

/* counters */
static uint64_t c_delivered, c_delivered_own, c_sent, c_acked, c_errors, c_other, c_created;
static uint64_t c_typing_in, c_receipt_in, c_closed_by_server, c_bad_frames, c_resync;
static uint64_t c_lat_n;
static uint32_t *lat;            /* µs, measurement window only */
static size_t lat_len, lat_cap;
static int measuring;
static uint64_t lat_max_all;
static int err_printed;

/* paced receipts: a FIFO of connections with a receipt due (the delay is constant, so due times are
 * in insertion order); each connection is queued at most once (receipt_due_ns != 0) */
#define RECEIPT_AFTER_ACK 1 /* receipt_due_ns: due, goes when the previous receipt is acknowledged */
static int *rq;
static size_t rq_head, rq_tail;

/* resume */
static uint64_t r_events, r_t0, r_t1;
static int r_done;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_utime.tv_sec * 1000000ull + (uint64_t)ru.ru_utime.tv_usec +
	       (uint64_t)ru.ru_stime.tv_sec * 1000000ull + (uint64_t)ru.ru_stime.tv_usec;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "wsload: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static uint32_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void buf_reserve(buf_t *b, size_t extra)
{
	if (b->off > 0 && b->off == b->len) {
		b->off = b->len = 0;
	}
	if (b->len + extra <= b->cap)
		return;
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->len + extra <= b->cap)
			return;
	}
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra)
		cap *= 2;
	char *d = realloc(b->data, cap);
	if (!d)
		die("out of memory");
	b->data = d;
	b->cap = cap;
}

static void buf_append(buf_t *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void buf_free(buf_t *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* ---- connection plumbing ---- */

static void ep_mod(conn_t *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)c->idx};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_close(conn_t *c, enum cstate st)
{
	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	c->state = st;
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->frag);
}

static void flush_out(conn_t *c)
{
	while (c->out.len > c->out.off) {
		ssize_t n = write(c->fd, c->out.data + c->out.off, c->out.len - c->out.off);
		if (n > 0) {
			c->out.off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->want_out) {
				c->want_out = 1;
				ep_mod(c, EPOLLIN | EPOLLOUT);
			}
			return;
		}
		conn_close(c, CS_FAILED);
		return;
	}
	c->out.off = c->out.len = 0;
	if (c->want_out) {
		c->want_out = 0;
		ep_mod(c, EPOLLIN);
	}
}

static void send_frame(conn_t *c, int opcode, const char *p, size_t n)
{
	unsigned char h[14];
	size_t hl = 0;
	h[hl++] = (unsigned char)(0x80 | opcode);
	if (n < 126) {
		h[hl++] = (unsigned char)(0x80 | n);
	} else if (n < 65536) {
		h[hl++] = 0x80 | 126;
		h[hl++] = (unsigned char)(n >> 8);
		h[hl++] = (unsigned char)n;
	} else {
		h[hl++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			h[hl++] = (unsigned char)((uint64_t)n >> (8 * i));
	}
	uint32_t key = xorshift();
	unsigned char mk[4] = {(unsigned char)key, (unsigned char)(key >> 8), (unsigned char)(key >> 16),
			       (unsigned char)(key >> 24)};
	memcpy(h + hl, mk, 4);
	hl += 4;
	buf_reserve(&c->out, hl + n);
	memcpy(c->out.data + c->out.len, h, hl);
	unsigned char *dst = (unsigned char *)c->out.data + c->out.len + hl;
	for (size_t i = 0; i < n; i++)
		dst[i] = (unsigned char)p[i] ^ mk[i & 3];
	c->out.len += hl + n;
	flush_out(c);
}

static void start_connect(conn_t *c)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt_port)};
	inet_pton(AF_INET, opt_host, &sa.sin_addr);
	c->fd = fd;
	c->t_connect = now_ns();
	int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0 && errno != EINPROGRESS) {
		close(fd);
		c->fd = -1;
		c->state = CS_FAILED;
		return;
	}
	c->state = CS_CONNECTING;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)c->idx};
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	c->want_out = 1;
}

static void send_handshake(conn_t *c)
{
	char req[4096];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
			 c->path, opt_host, opt_port);
	if (opt_proto)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "Sec-WebSocket-Protocol: %s\r\n", opt_proto);
	if (c->token && strcmp(c->token, "-") != 0)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "Authorization: Bearer %s\r\n", c->token);
	n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
	c->state = CS_HANDSHAKE;
	buf_append(&c->out, req, (size_t)n);
	flush_out(c);
}

/* ---- frames the client sends ---- */

static void send_message(conn_t *c, uint64_t t)
{
	char f[1024];
	char pad[512];
	int pl = opt_body_pad < (int)sizeof(pad) - 1 ? opt_body_pad : (int)sizeof(pad) - 1;
	memset(pad, 'x', (size_t)pl);
	pad[pl] = 0;
	c->seq++;
	int n = snprintf(f, sizeof(f),
			 "{\"type\":\"message.send\",\"id\":\"c%llu\",\"room_id\":\"%s\",\"body\":\"@%llu:%d:%llu %s\","
			 "\"client_msg_id\":\"k%s-%d-%llu\"}",
			 (unsigned long long)c->seq, c->room_id, (unsigned long long)t, c->idx,
			 (unsigned long long)c->seq, pad, run_nonce, c->idx, (unsigned long long)c->seq);
	c->sent++;
	c_sent++;
	send_frame(c, 1, f, (size_t)n);
}

static void send_receipt(conn_t *c)
{
	char f[512];
	int n = snprintf(f, sizeof(f),
			 "{\"type\":\"receipt\",\"id\":\"r%llu\",\"room_id\":\"%s\",\"message_id\":\"%s\",\"state\":\"delivered\"}",
			 (unsigned long long)++c->cmd_id, c->room_id, c->receipt_msg_id);
	c->receipt_inflight = 1;
	c->receipt_sent_seq = c->receipt_pending_seq;
	c->receipts_sent++;
	send_frame(c, 1, f, (size_t)n);
}
/* The browser client's Pacer: the first newer message schedules a receipt opt_receipt_ms later; further
 * arrivals before it fires change nothing (the receipt names the newest message when it goes). */
static void schedule_receipt(conn_t *c)
{
	if (c->receipt_due_ns)
		return;
	if (opt_receipt_ms <= 0) {
		if (!c->receipt_inflight)
			send_receipt(c);
		else
			c->receipt_due_ns = RECEIPT_AFTER_ACK;
		return;
	}
	c->receipt_due_ns = now_ns() + (uint64_t)opt_receipt_ms * 1000000ull;
	rq[rq_tail++ % (size_t)nconns] = c->idx;
}

/* Send the receipts that are due; returns the next due time (0 = none queued). */
static uint64_t service_receipts(uint64_t now)
{
	while (rq_head != rq_tail) {
		conn_t *c = &conns[rq[rq_head % (size_t)nconns]];
		if (c->receipt_due_ns > now)
			return c->receipt_due_ns;
		rq_head++;
		if (c->state != CS_OPEN || c->receipt_pending_seq <= c->receipt_sent_seq) {
			c->receipt_due_ns = 0;
		} else if (c->receipt_inflight) {
			c->receipt_due_ns = RECEIPT_AFTER_ACK;
		} else {
			c->receipt_due_ns = 0;
			send_receipt(c);
		}
	}
	return 0;
}

static void send_typing(conn_t *c)
{
	char f[256];
	int n = snprintf(f, sizeof(f), "{\"type\":\"typing\",\"id\":\"t%llu\",\"room_id\":\"%s\",\"state\":\"start\"}",
			 (unsigned long long)++c->cmd_id, c->room_id);
	c->typing_sent++;
	send_frame(c, 1, f, (size_t)n);
}

/* ---- frames the client receives ---- */

static const char *find(const char *p, size_t n, const char *needle)
{
	return memmem(p, n, needle, strlen(needle));
}

static void record_latency(uint64_t t_sent)
{
	uint64_t now = now_ns();
	uint64_t us = now > t_sent ? (now - t_sent) / 1000 : 0;
	if (us > lat_max_all)
		lat_max_all = us;
	if (!measuring)
		return;
	c_lat_n++;
	if (lat_len == lat_cap) {
		if (lat_cap >= (size_t)32 << 20)
			return;
		lat_cap = lat_cap ? lat_cap * 2 : 1 << 16;
		lat = realloc(lat, lat_cap * sizeof(*lat));
		if (!lat)
			die("out of memory");
	}
	lat[lat_len++] = us > 0xffffffffu ? 0xffffffffu : (uint32_t)us;
}

/* A marker "@<ts>:<conn>:<seq>" in the frame: a delivery. Returns 1 if found. */
static int delivery(conn_t *c, const char *p, size_t n)
{
	const char *m = find(p, n, "\"body\":\"@");
	if (!m)
		return 0;
	m += 9;
	const char *end = p + n;
	uint64_t ts = 0;
	while (m < end && *m >= '0' && *m <= '9')
		ts = ts * 10 + (uint64_t)(*m++ - '0');
	if (m >= end || *m != ':')
		return 0;
	m++;
	int from = 0;
	while (m < end && *m >= '0' && *m <= '9')
		from = from * 10 + (*m++ - '0');
	c_delivered++;
	record_latency(ts);
	if (from == c->idx) {
		c->own_recv++;
		c_delivered_own++;
	}
	return 1;
}

static int64_t parse_int_after(const char *p, size_t n, const char *key)
{
	const char *m = find(p, n, key);
	if (!m)
		return -1;
	m += strlen(key);
	int64_t v = 0;
	const char *end = p + n;
	while (m < end && *m >= '0' && *m <= '9')
		v = v * 10 + (*m++ - '0');
	return v;
}

static void on_chatterbox_frame(conn_t *c, const char *p, size_t n)
{
	const char *t = find(p, n, "\"type\":\"");
	if (!t) {
		c_bad_frames++;
		return;
	}
	t += 8;
	size_t rest = (size_t)(p + n - t);
#define IS(s) (rest > sizeof(s) && memcmp(t, s "\"", sizeof(s)) == 0)
	if (IS("message.created")) {
		c_created++;
		if (r_t0 && !r_done && c->idx == 0) {
			r_events++;
			return;
		}
		if (!delivery(c, p, n))
			return;
		if (opt_receipts) {
			const char *mp = find(p, n, "\"message\":{");
			int64_t seq = parse_int_after(p, n, "\"seq\":");
			if (!mp || seq < 0)
				return;
			const char *id = find(mp, (size_t)(p + n - mp), "\"id\":\"");
			if (!id)
				return;
			id += 6;
			const char *q = memchr(id, '"', (size_t)(p + n - id));
			if (!q || q - id >= (long)sizeof(c->receipt_msg_id))
				return;
			/* not for our own messages (the server refuses them) */
			const char *mk = find(p, n, "\"body\":\"@");
			if (mk) {
				const char *colon = memchr(mk + 9, ':', (size_t)(p + n - mk - 9));
				if (colon && atoi(colon + 1) == c->idx)
					return;
			}
			if (seq <= c->receipt_pending_seq)
				return;
			memcpy(c->receipt_msg_id, id, (size_t)(q - id));
			c->receipt_msg_id[q - id] = 0;
			c->receipt_pending_seq = seq;
			schedule_receipt(c);
		}
	} else if (IS("ack") || IS("error")) {
		int is_err = IS("error");
		const char *re = find(p, n, "\"re\":\"");
		char kind = re ? re[6] : 0;
		if (is_err) {
			c_errors++;
			if (err_printed < 5 && !opt_quiet) {
				err_printed++;
				fprintf(stderr, "wsload: conn %d error frame: %.*s\n", c->idx, (int)(n > 300 ? 300 : n), p);
			}
		}
		if (kind == 'c') {
			if (!is_err) {
				c->acked++;
				c_acked++;
			}
		} else if (kind == 'r') {
			c->receipt_inflight = 0;
			/* a receipt that fell due while the previous one was in flight goes now */
			if (c->receipt_due_ns == RECEIPT_AFTER_ACK) {
				c->receipt_due_ns = 0;
				if (c->receipt_pending_seq > c->receipt_sent_seq)
					send_receipt(c);
			}
		} else if (kind == 's') {
			r_t1 = now_ns();
			r_done = 1;
		}
	} else if (IS("typing")) {
		c_typing_in++;
	} else if (IS("receipt")) {
		c_receipt_in++;
	} else if (IS("hello")) {
		if (c->state == CS_WAIT_HELLO) {
			c->state = CS_OPEN;
			c->t_ready = now_ns();
		}
	} else if (IS("resync")) {
		c_resync++;
	} else {
		c_other++;
	}
#undef IS
}

static void on_message(conn_t *c, const char *p, size_t n)
{
	if (opt_mode == MODE_CHATTERBOX) {
		on_chatterbox_frame(c, p, n);
	} else if (!delivery(c, p, n)) {
		c_other++;
	}
}

/* Parse complete frames from c->in. */
static void parse_frames(conn_t *c)
{
	for (;;) {
		size_t avail = c->in.len - c->in.off;
		const unsigned char *b = (const unsigned char *)c->in.data + c->in.off;
		if (avail < 2)
			return;
		int fin = b[0] & 0x80, op = b[0] & 0x0f;
		int masked = b[1] & 0x80;
		uint64_t len = b[1] & 0x7f;
		size_t hl = 2;
		if (len == 126) {
			if (avail < 4)
				return;
			len = ((uint64_t)b[2] << 8) | b[3];
			hl = 4;
		} else if (len == 127) {
			if (avail < 10)
				return;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = (len << 8) | b[2 + i];
			hl = 10;
		}
		if (masked)
			hl += 4;
		if (avail < hl + len)
			return;
		const char *payload = (const char *)b + hl;
		if (masked) {
			unsigned char *pm = (unsigned char *)b + hl;
			const unsigned char *mk = b + hl - 4;
			for (uint64_t i = 0; i < len; i++)
				pm[i] ^= mk[i & 3];
		}
		c->in.off += hl + (size_t)len;
		if (op == 0x1 || op == 0x2) {
			if (fin)
				on_message(c, payload, (size_t)len);
			else {
				c->frag.len = 0;
				buf_append(&c->frag, payload, (size_t)len);
			}
		} else if (op == 0x0) {
			buf_append(&c->frag, payload, (size_t)len);
			if (fin) {
				on_message(c, c->frag.data, c->frag.len);
				c->frag.len = 0;
			}
		} else if (op == 0x8) {
			c_closed_by_server++;
			if (!opt_quiet && c_closed_by_server <= 5) {
				int code = len >= 2 ? ((unsigned char)payload[0] << 8) | (unsigned char)payload[1] : 0;
				fprintf(stderr, "wsload: conn %d closed by server, code %d\n", c->idx, code);
			}
			send_frame(c, 0x8, payload, len >= 2 ? 2 : 0);
			conn_close(c, CS_CLOSED);
			return;
		} else if (op == 0x9) {
			send_frame(c, 0xA, payload, (size_t)len);
		}
		if (c->state == CS_CLOSED || c->state == CS_FAILED)
			return;
	}
}

static int ready_count, failed_count, in_handshake;

static void on_handshake_data(conn_t *c)
{
	const char *end = memmem(c->in.data + c->in.off, c->in.len - c->in.off, "\r\n\r\n", 4);
	if (!end)
		return;
	const char *s = c->in.data + c->in.off;
	if (strncmp(s, "HTTP/1.1 101", 12) != 0) {
		if (failed_count < 5 && !opt_quiet)
			fprintf(stderr, "wsload: conn %d upgrade refused: %.*s\n", c->idx, (int)(strchr(s, '\r') - s), s);
		in_handshake--;
		failed_count++;
		conn_close(c, CS_FAILED);
		return;
	}
	c->in.off = (size_t)(end + 4 - c->in.data);
	if (opt_mode == MODE_CHATTERBOX) {
		c->state = CS_WAIT_HELLO;
	} else {
		c->state = CS_OPEN;
		c->t_ready = now_ns();
	}
}

static void on_readable(conn_t *c)
{
	for (;;) {
		buf_reserve(&c->in, 65536);
		ssize_t n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len);
		if (n > 0) {
			c->in.len += (size_t)n;
			int was = c->state;
			if (c->state == CS_HANDSHAKE)
				on_handshake_data(c);
			if (c->state == CS_WAIT_HELLO || c->state == CS_OPEN)
				parse_frames(c);
			if ((was == CS_HANDSHAKE || was == CS_WAIT_HELLO) && c->state == CS_OPEN) {
				in_handshake--;
				ready_count++;
			}
			if (c->state == CS_CLOSED || c->state == CS_FAILED)
				return;
			if ((size_t)n < 65536)
				return;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (c->state == CS_HANDSHAKE || c->state == CS_WAIT_HELLO) {
			in_handshake--;
			failed_count++;
		} else {
			c_closed_by_server++;
		}
		conn_close(c, c->state == CS_OPEN ? CS_CLOSED : CS_FAILED);
		return;
	}
}

static void on_event(conn_t *c, uint32_t events)
{
	if (c->state == CS_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			in_handshake--;
			failed_count++;
			if (failed_count < 5 && !opt_quiet)
				fprintf(stderr, "wsload: conn %d connect: %s\n", c->idx, strerror(err));
			conn_close(c, CS_FAILED);
			return;
		}
		c->want_out = 0;
		ep_mod(c, EPOLLIN);
		send_handshake(c);
		return;
	}
	if (events & EPOLLOUT)
		flush_out(c);
	if (c->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		on_readable(c);
}

static void poll_once(int timeout_ms)
{
	struct epoll_event evs[512];
	int n = epoll_wait(ep, evs, 512, timeout_ms);
	for (int i = 0; i < n; i++) {
		conn_t *c = &conns[evs[i].data.u32];
		if (c->fd >= 0)
			on_event(c, evs[i].events);
	}
}

/* ---- spec, args, output ---- */

static int room_index(const char *id)
{
	for (int i = nrooms - 1; i >= 0; i--)
		if (strcmp(rooms[i].id, id) == 0)
			return i;
	rooms = realloc(rooms, (size_t)(nrooms + 1) * sizeof(*rooms));
	rooms[nrooms].id = strdup(id);
	rooms[nrooms].members = 0;
	return nrooms++;
}

static void load_spec(const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f)
		die("cannot open %s", file);
	char line[4096];
	int cap = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0])
			continue;
		char *path = strtok(line, "\t"), *tok = strtok(NULL, "\t"), *room = strtok(NULL, "\t"),
		     *snd = strtok(NULL, "\t");
		if (!path || !tok || !room || !snd)
			die("bad spec line %d (path, token, room, sender)", nconns + 1);
		if (nconns == cap) {
			cap = cap ? cap * 2 : 1024;
			conns = realloc(conns, (size_t)cap * sizeof(*conns));
		}
		conn_t *c = &conns[nconns];
		memset(c, 0, sizeof(*c));
		c->fd = -1;
		c->idx = nconns;
		c->path = strdup(path);
		c->token = strdup(tok);
		c->room_id = strdup(room);
		c->room = room_index(room);
		rooms[c->room].members++;
		c->sender = atoi(snd);
		nconns++;
	}
	fclose(f);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(uint32_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

static void line(const char *s)
{
	printf("%s\n", s);
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: wsload --spec FILE [--host H] [--port P] [--mode plain|echo|chatterbox] [--proto P]\n"
		"  [--rate MSGS_PER_S | --window W] [--warmup S] [--duration S] [--drain S] [--receipts]\n"
		"  [--receipt-ms MS] [--typing-ms MS] [--conc C] [--hold S] [--body-pad B] [--resume-room R --resume-after SEQ]\n"
		"spec: one line per connection: path<TAB>token|-<TAB>room<TAB>sender(0|1)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && ++i)
		if (ARG("--host"))
			opt_host = v;
		else if (ARG("--port"))
			opt_port = atoi(v);
		else if (ARG("--spec"))
			opt_spec = v;
		else if (ARG("--proto"))
			opt_proto = v;
		else if (ARG("--mode"))
			opt_mode = strcmp(v, "echo") == 0 ? MODE_ECHO : strcmp(v, "chatterbox") == 0 ? MODE_CHATTERBOX : MODE_PLAIN;
		else if (ARG("--rate"))
			opt_rate = atof(v);
		else if (ARG("--window"))
			opt_window = atoi(v);
		else if (ARG("--warmup"))
			opt_warmup = atof(v);
		else if (ARG("--duration"))
			opt_duration = atof(v);
		else if (ARG("--drain"))
			opt_drain = atof(v);
		else if (ARG("--receipt-ms"))
			opt_receipt_ms = atoi(v);
		else if (ARG("--typing-ms"))
			opt_typing_ms = atoi(v);
		else if (ARG("--conc"))
			opt_conc = atoi(v);
		else if (ARG("--hold"))
			opt_hold = atof(v);
		else if (ARG("--connect-timeout"))
			opt_connect_timeout = atof(v);
		else if (ARG("--body-pad"))
			opt_body_pad = atoi(v);
		else if (ARG("--resume-room"))
			opt_resume_room = v;
		else if (ARG("--resume-after"))
			opt_resume_after = atol(v);
		else if (strcmp(a, "--receipts") == 0)
			opt_receipts = 1;
		else if (strcmp(a, "--quiet") == 0)
			opt_quiet = 1;
		else
			usage();
#undef ARG
	}
	if (!opt_spec)
		usage();
	load_spec(opt_spec);
	if (nconns == 0)
		die("no connections in spec");
	rq = calloc((size_t)nconns, sizeof(*rq));
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	snprintf(run_nonce, sizeof(run_nonce), "%llx", (unsigned long long)(now_ns() ^ ((uint64_t)getpid() << 40)));
	rng ^= (uint32_t)now_ns();
	ep = epoll_create1(EPOLL_CLOEXEC);

	/* 1. connect everything, at most opt_conc handshakes at once */
	uint64_t t_start = now_ns();
	uint64_t deadline = t_start + (uint64_t)(opt_connect_timeout * 1e9);
	int next = 0;
	while (ready_count + failed_count < nconns && now_ns() < deadline) {
		while (next < nconns && in_handshake < opt_conc) {
			in_handshake++;
			start_connect(&conns[next]);
			if (conns[next].state == CS_FAILED) {
				in_handshake--;
				failed_count++;
			}
			next++;
		}
		poll_once(10);
	}
	uint64_t t_connected = now_ns();
	uint32_t *hello = calloc((size_t)nconns, sizeof(uint32_t));
	size_t nhello = 0;
	for (int i = 0; i < nconns; i++)
		if (conns[i].t_ready)
			hello[nhello++] = (uint32_t)((conns[i].t_ready - conns[i].t_connect) / 1000);
	qsort(hello, nhello, sizeof(uint32_t), cmp_u32);

	uint64_t cpu0 = 0, cpu1 = 0, m0 = 0, m1 = 0, d0 = 0, d1 = 0, s0 = 0, s1 = 0, a0 = 0, a1 = 0;
	uint64_t expected = 0;
	int nsenders = 0;
	for (int i = 0; i < nconns; i++)
		nsenders += conns[i].sender && conns[i].state == CS_OPEN;

	if (opt_hold >= 0) {
		/* idle mode: report READY, keep the connections open (answering pings), send nothing */
		line("READY");
		uint64_t until = now_ns() + (uint64_t)(opt_hold * 1e9);
		while (now_ns() < until)
			poll_once(50);
	} else if (opt_resume_room) {
		conn_t *c = &conns[0];
		if (c->state != CS_OPEN)
			die("resume: connection 0 not open");
		char f[256];
		int n = snprintf(f, sizeof(f), "{\"type\":\"resume\",\"id\":\"s1\",\"rooms\":{\"%s\":%ld}}", opt_resume_room,
				 opt_resume_after);
		cpu0 = cpu_us();
		r_t0 = now_ns();
		send_frame(c, 1, f, (size_t)n);
		uint64_t until = r_t0 + (uint64_t)(opt_connect_timeout * 1e9);
		while (!r_done && c->state == CS_OPEN && now_ns() < until)
			poll_once(50);
		cpu1 = cpu_us();
	} else if (nsenders > 0) {
		/* 2. load: warm-up, measurement window, drain */
		uint64_t t0 = now_ns();
		uint64_t t_meas = t0 + (uint64_t)(opt_warmup * 1e9);
		uint64_t t_end = t_meas + (uint64_t)(opt_duration * 1e9);
		uint64_t interval = opt_rate > 0 ? (uint64_t)(1e9 * nsenders / opt_rate) : 0;
		int k = 0;
		for (int i = 0; i < nconns; i++) {
			conn_t *c = &conns[i];
			if (!c->sender || c->state != CS_OPEN)
				continue;
			c->next_send_ns = t0 + (interval * (uint64_t)k) / (uint64_t)nsenders;
			c->next_typing_ns = t0 + (uint64_t)opt_typing_ms * 1000000ull * (uint64_t)k / (uint64_t)nsenders;
			k++;
			if (!interval)
				for (int w = 0; w < opt_window; w++)
					send_message(c, now_ns());
		}
		int phase = 0;
		for (;;) {
			uint64_t now = now_ns();
			if (phase == 0 && now >= t_meas) {
				phase = 1;
				line("MEASURE_START");
				measuring = 1;
				cpu0 = cpu_us();
				m0 = now_ns();
				d0 = c_delivered;
				s0 = c_sent;
				a0 = c_acked;
			}
			if (phase == 1 && now >= t_end) {
				cpu1 = cpu_us();
				m1 = now_ns();
				d1 = c_delivered;
				s1 = c_sent;
				a1 = c_acked;
				measuring = 0;
				line("MEASURE_END");
				break;
			}
			uint64_t wake = phase == 0 ? t_meas : t_end;
			uint64_t rdue = service_receipts(now);
			if (rdue && rdue < wake)
				wake = rdue;
			for (int i = 0; i < nconns; i++) {
				conn_t *c = &conns[i];
				if (!c->sender || c->state != CS_OPEN)
					continue;
				if (interval) {
					while (c->next_send_ns <= now) {
						send_message(c, now);
						c->next_send_ns += interval;
					}
					if (c->next_send_ns < wake)
						wake = c->next_send_ns;
				} else {
					while (c->state == CS_OPEN && c->sent - c->own_recv < (uint64_t)opt_window)
						send_message(c, now_ns());
				}
				if (opt_typing_ms > 0 && c->state == CS_OPEN) {
					if (c->next_typing_ns <= now) {
						send_typing(c);
						c->next_typing_ns += (uint64_t)opt_typing_ms * 1000000ull;
					}
					if (c->next_typing_ns < wake)
						wake = c->next_typing_ns;
				}
			}
			now = now_ns();
			if (interval) {
				struct timespec ts = {0, 0};
				if (wake > now) {
					uint64_t d = wake - now;
					ts.tv_sec = (time_t)(d / 1000000000ull);
					ts.tv_nsec = (long)(d % 1000000000ull);
				}
				struct epoll_event evs[512];
				int n = epoll_pwait2(ep, evs, 512, &ts, NULL);
				for (int i = 0; i < n; i++) {
					conn_t *c = &conns[evs[i].data.u32];
					if (c->fd >= 0)
						on_event(c, evs[i].events);
				}
			} else {
				poll_once(wake > now ? (int)((wake - now) / 1000000 + 1) : 0);
			}
		}
		/* drain: everything sent must arrive (expected = sent x connections in the room) */
		uint64_t until = now_ns() + (uint64_t)(opt_drain * 1e9);
		for (;;) {
			expected = 0;
			for (int i = 0; i < nconns; i++) {
				conn_t *c = &conns[i];
				uint64_t members = opt_mode == MODE_ECHO ? 1 : (uint64_t)rooms[c->room].members;
				expected += c->sent * members;
			}
			if (c_delivered >= expected || now_ns() >= until)
				break;
			service_receipts(now_ns());
			poll_once(20);
		}
	}
	uint64_t t_done = now_ns();

	qsort(lat, lat_len, sizeof(uint32_t), cmp_u32);
	double secs = m1 > m0 ? (double)(m1 - m0) / 1e9 : 0;
	uint64_t open_now = 0;
	uint64_t receipts = 0, typing = 0;
	for (int i = 0; i < nconns; i++) {
		open_now += conns[i].state == CS_OPEN;
		receipts += conns[i].receipts_sent;
		typing += conns[i].typing_sent;
	}
	printf("{\"conns\":%d,\"ready\":%d,\"failed\":%d,\"open_at_end\":%llu,\"senders\":%d,\"rooms\":%d,"
	       "\"connect_s\":%.3f,\"hello_p50_us\":%.0f,\"hello_p99_us\":%.0f,\"hello_max_us\":%.0f,"
	       "\"window_s\":%.4f,\"sent\":%llu,\"delivered\":%llu,\"acked\":%llu,"
	       "\"delivered_per_s\":%.1f,\"sent_per_s\":%.1f,\"acked_per_s\":%.1f,"
	       "\"loadgen_cpu_us\":%llu,\"lat_n\":%zu,\"lat_p50_us\":%.0f,\"lat_p90_us\":%.0f,\"lat_p99_us\":%.0f,"
	       "\"lat_p999_us\":%.0f,\"lat_max_us\":%.0f,\"sent_total\":%llu,\"delivered_total\":%llu,"
	       "\"expected_total\":%llu,\"own_total\":%llu,\"acked_total\":%llu,\"created_total\":%llu,"
	       "\"errors\":%llu,\"closed_by_server\":%llu,\"receipts_sent\":%llu,\"typing_sent\":%llu,"
	       "\"receipt_frames_in\":%llu,\"typing_frames_in\":%llu,\"other_frames\":%llu,\"bad_frames\":%llu,"
	       "\"resync\":%llu,\"resume_events\":%llu,\"resume_s\":%.6f,\"resume_cpu_us\":%llu,\"total_s\":%.3f}\n",
	       nconns, ready_count, failed_count, (unsigned long long)open_now, nsenders, nrooms,
	       (double)(t_connected - t_start) / 1e9, pct(hello, nhello, 0.5), pct(hello, nhello, 0.99),
	       nhello ? (double)hello[nhello - 1] : 0, secs, (unsigned long long)(s1 - s0),
	       (unsigned long long)(d1 - d0), (unsigned long long)(a1 - a0), secs ? (double)(d1 - d0) / secs : 0,
	       secs ? (double)(s1 - s0) / secs : 0, secs ? (double)(a1 - a0) / secs : 0,
	       (unsigned long long)(cpu1 - cpu0), lat_len, pct(lat, lat_len, 0.5), pct(lat, lat_len, 0.9),
	       pct(lat, lat_len, 0.99), pct(lat, lat_len, 0.999), lat_len ? (double)lat[lat_len - 1] : 0,
	       (unsigned long long)c_sent, (unsigned long long)c_delivered, (unsigned long long)expected,
	       (unsigned long long)c_delivered_own, (unsigned long long)c_acked, (unsigned long long)c_created,
	       (unsigned long long)c_errors, (unsigned long long)c_closed_by_server, (unsigned long long)receipts,
	       (unsigned long long)typing, (unsigned long long)c_receipt_in, (unsigned long long)c_typing_in,
	       (unsigned long long)c_other, (unsigned long long)c_bad_frames, (unsigned long long)c_resync,
	       (unsigned long long)r_events, r_t1 > r_t0 ? (double)(r_t1 - r_t0) / 1e9 : 0,
	       (unsigned long long)(cpu1 - cpu0), (double)(t_done - t_start) / 1e9);
	fflush(stdout);
	for (int i = 0; i < nconns; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	return 0;
}
