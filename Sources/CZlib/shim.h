// zlib: gzip decompression (inflate) and CRC-32.
#pragma once
#include <zlib.h>

/// `inflateInit2` is a macro in zlib.h; Swift needs a function.
static inline int shim_inflate_init_gzip(z_stream *stream) {
    // 16 + MAX_WBITS: expect a gzip header and trailer.
    return inflateInit2(stream, 16 + MAX_WBITS);
}
