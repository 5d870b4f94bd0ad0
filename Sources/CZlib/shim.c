#include "CZlib.h"

int cz_deflate_init(z_stream *stream, int level) {
    return deflateInit(stream, level);
}

int cz_inflate_init(z_stream *stream) {
    return inflateInit(stream);
}

int cz_deflate_init_gzip(z_stream *stream, int level) {
    // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
