/*
 * libFuzzer target for QEMU's net/stream_offload.c, built outside QEMU's
 * tree by scripts/build-fuzz.sh with ASan and UBSan.
 *
 * The first byte of an input picks the direction:
 *   even: a frame from the guest, after a 10-byte virtio-net header,
 *         through stream_offload_tx() (and net_tx_pkt, which cuts TCP
 *         segments), in two pieces cut where the first byte's top five
 *         bits say;
 *   odd:  a byte stream from passt, in -netdev stream's framing (each
 *         frame after its length, 32-bit big-endian), deframed as QEMU
 *         does and joined by stream_gro_receive(); the low bits of each
 *         length's top byte end a "read" (a flush) after that frame.
 * Besides what the sanitizers catch, the target aborts when an output
 * breaks the bounds the code promises.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qemu/iov.h"
#include "net/net.h"
#include "system/dma.h"
#include "stream_offload.h"

#define FRAME_MAX       65535
#define NET_BUFSIZE     (4096 + 65536)  /* what net_fill_rstate() takes */

/*
 * What util/iov.c and net/eth.c call but this target never needs; the
 * rest of libqemuutil stays out of it.
 */
int qemu_loglevel;
void qemu_log(const char *fmt, ...)
{
}

void qemu_hexdump(FILE *fp, const char *prefix, const void *bufptr,
                  size_t size)
{
}

bool buffer_is_zero_ool(const void *vbuf, size_t len)
{
    const uint8_t *p = vbuf;

    return !len || (!p[0] && !memcmp(p, p + 1, len - 1));
}

#define CHECK(cond) do { if (!(cond)) { abort(); } } while (0)

/*
 * What hw/net/net_tx_pkt.c calls for a NIC's DMA and its peer, which the
 * stream offloads never use
 */
int qemu_get_vnet_hdr_len(NetClientState *nc)
{
    abort();
}

ssize_t qemu_sendv_packet(NetClientState *nc, const struct iovec *iov,
                          int iovcnt)
{
    abort();
}

void *address_space_map(AddressSpace *as, hwaddr addr, hwaddr *plen,
                        bool is_write, MemTxAttrs attrs)
{
    abort();
}

void address_space_unmap(AddressSpace *as, void *buffer, hwaddr len,
                         bool is_write, hwaddr access_len)
{
    abort();
}

/* What stream_data.c does with a frame for the peer, into a GByteArray */
static bool tx_collect(void *opaque, const struct iovec *iov, int iovcnt,
                       size_t copy)
{
    GByteArray *out = opaque;
    size_t len = iov_size(iov, iovcnt);
    uint32_t prefix = cpu_to_be32(len);
    guint at;

    CHECK(copy <= len);
    if (len < ETH_HLEN || len > FRAME_MAX) {
        return false;
    }
    g_byte_array_append(out, (const guint8 *)&prefix, sizeof(prefix));
    at = out->len;
    g_byte_array_set_size(out, at + len);
    iov_to_buf(iov, iovcnt, 0, out->data + at, len);
    return true;
}

/*
 * The input after its first byte: a 10-byte virtio-net header, then a
 * frame, which reaches the offload in two pieces, cut where the first
 * byte's top bits say
 */
static void fuzz_tx(uint8_t cut_at, const uint8_t *data, size_t size)
{
    static GByteArray *out;
    static StreamOffload *o;
    struct iovec iov[3];
    const char *why = NULL;
    StreamTxResult r;
    size_t off, frames = 0, len, cut;

    if (size < sizeof(struct virtio_net_hdr)) {
        return;
    }
    if (!out) {
        out = g_byte_array_new();
        o = stream_offload_new(tx_collect, NULL, out);
    }
    len = size - sizeof(struct virtio_net_hdr);
    cut = MIN(len, (size_t)(cut_at >> 3) * 4);
    iov[0] = (struct iovec) { (void *)data, sizeof(struct virtio_net_hdr) };
    iov[1] = (struct iovec) { (void *)data + iov[0].iov_len, cut };
    iov[2] = (struct iovec) { (void *)data + iov[0].iov_len + cut, len - cut };
    g_byte_array_set_size(out, 0);
    r = stream_offload_tx(o, iov[0].iov_len, iov, ARRAY_SIZE(iov), &why);
    CHECK(r == STREAM_TX_OK ? !why : !!why);
    /*
     * a multiple of the input (8-byte segments, 142 bytes of headers), in
     * frames passt takes
     */
    CHECK(out->len <= 20 * len + 256);
    for (off = 0; r == STREAM_TX_OK && off < out->len; frames++) {
        size_t flen;

        CHECK(off + 4 <= out->len);
        flen = ldl_be_p(out->data + off);
        CHECK(flen >= ETH_HLEN && flen <= FRAME_MAX);
        CHECK(off + 4 + flen <= out->len);
        off += 4 + flen;
    }
    CHECK(frames <= FRAME_MAX / STREAM_TSO_MSS_MIN + 1);
}

typedef struct RxCount {
    size_t in, out;
} RxCount;

static void rx_deliver(void *opaque, const struct virtio_net_hdr *gso,
                       const uint8_t *frame, size_t len)
{
    RxCount *c = opaque;
    volatile uint8_t sink = 0;
    size_t i;

    /* touch every byte, so that ASan sees a bad pointer or length */
    for (i = 0; i < len; i++) {
        sink ^= frame[i];
    }
    (void)sink;
    c->out += len;
    if (gso) {
        CHECK(len <= ETH_HLEN + 65535);
        CHECK(gso->gso_size >= STREAM_GRO_MSS_MIN);
        CHECK(gso->hdr_len < len && gso->csum_start < gso->hdr_len);
        CHECK(gso->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 ||
              gso->gso_type == VIRTIO_NET_HDR_GSO_TCPV6);
    }
}

static void fuzz_rx(const uint8_t *data, size_t size, bool tso4, bool tso6)
{
    static StreamGro *g;
    RxCount c = { 0 };

    if (!g) {
        g = g_new0(StreamGro, 1);
        g->deliver = rx_deliver;
    }
    g->opaque = &c;
    g->tso4 = tso4;
    g->tso6 = tso6;
    while (size >= 4) {
        uint32_t len = ldl_be_p(data);
        bool flush = len & 0x01000000;

        len &= 0xffffff;
        data += 4;
        size -= 4;
        if (len > NET_BUFSIZE || len > size) {
            break;      /* QEMU hangs up on such a stream */
        }
        /* a copy of that length only, so that reading on is caught */
        {
            g_autofree uint8_t *frame = g_memdup2(data, len);

            stream_gro_receive(g, frame, len);
        }
        c.in += len;
        data += len;
        size -= len;
        if (flush) {
            stream_gro_flush(g);
        }
    }
    stream_gro_flush(g);
    /* joining only ever drops headers */
    CHECK(c.out <= c.in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) {
        return 0;
    }
    if (data[0] & 1) {
        fuzz_rx(data + 1, size - 1, data[0] & 2, data[0] & 4);
    } else {
        fuzz_tx(data[0], data + 1, size - 1);
    }
    return 0;
}
