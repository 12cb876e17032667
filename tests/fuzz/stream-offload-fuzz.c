/*
 * libFuzzer target for QEMU's net/stream_offload.c, built outside QEMU's
 * tree by scripts/build-fuzz.sh with ASan and UBSan.
 *
 * The first byte of an input picks the direction:
 *   even: a frame from the guest, after a 10-byte virtio-net header,
 *         through stream_offload_tx();
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

static void fuzz_tx(const uint8_t *data, size_t size)
{
    static GByteArray *out;
    struct virtio_net_hdr hdr;
    const char *why = NULL;
    StreamTxResult r;
    size_t off, frames = 0;

    if (size < sizeof(hdr)) {
        return;
    }
    if (!out) {
        out = g_byte_array_new();
    }
    memcpy(&hdr, data, sizeof(hdr));
    data += sizeof(hdr);
    size -= sizeof(hdr);
    g_byte_array_set_size(out, 0);
    r = stream_offload_tx(&hdr, data, size, FRAME_MAX, out, &why);
    CHECK(r == STREAM_TX_OK ? !why : why && out->len == 0);
    /* a small multiple of the input, in frames passt takes */
    CHECK(out->len <= 3 * size + 256);
    for (off = 0; off < out->len; frames++) {
        size_t len;

        CHECK(off + 4 <= out->len);
        len = ldl_be_p(out->data + off);
        CHECK(len >= ETH_HLEN && len <= FRAME_MAX);
        CHECK(off + 4 + len <= out->len);
        off += 4 + len;
    }
    CHECK(frames <= FRAME_MAX / STREAM_TSO_MSS_MIN + 1);
    g_byte_array_set_size(out, 0);
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
        fuzz_tx(data + 1, size - 1);
    }
    return 0;
}
