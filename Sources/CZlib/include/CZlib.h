#ifndef ONEKUBE_CZLIB_H
#define ONEKUBE_CZLIB_H
#include <zlib.h>

/// deflateInit and inflateInit are macros (they pass zlib's version and struct size), which Swift
/// cannot call: these wrap them.
int cz_deflate_init(z_stream *stream, int level);
int cz_inflate_init(z_stream *stream);
/// A deflate stream that writes the gzip format (layer blobs).
int cz_deflate_init_gzip(z_stream *stream, int level);
#endif
