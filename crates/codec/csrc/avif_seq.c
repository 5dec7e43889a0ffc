/* AVIF image sequences (animated AVIF) through Debian's libavif: a narrow,
 * flat API so the Rust side never mirrors libavif's struct layouts (they
 * change between libavif releases; the compiler reads them from avif.h). */
#include <avif/avif.h>
#include <stdint.h>
#include <string.h>

/* Reads the container only: canvas size, frame count, alpha. No AV1 decode.
 * Returns an avifResult; 0 is OK. */
int pxg_avifseq_probe(const uint8_t *data, size_t len, uint32_t *width, uint32_t *height,
                      uint32_t *frames, int *alpha) {
    avifDecoder *dec = avifDecoderCreate();
    if (!dec) return AVIF_RESULT_OUT_OF_MEMORY;
    dec->ignoreExif = AVIF_TRUE;
    dec->ignoreXMP = AVIF_TRUE;
    avifResult r = avifDecoderSetIOMemory(dec, data, len);
    if (r == AVIF_RESULT_OK) r = avifDecoderParse(dec);
    if (r == AVIF_RESULT_OK) {
        *width = dec->image->width;
        *height = dec->image->height;
        *frames = dec->imageCount > 0 ? (uint32_t)dec->imageCount : 0;
        *alpha = dec->alphaPresent ? 1 : 0;
    }
    avifDecoderDestroy(dec);
    return r;
}

/* Decodes up to `max_frames` frames as 8-bit RGBA, frame i into outs[i]
 * (width * height * 4 bytes each), their durations in milliseconds into
 * `delays_ms`. `width`/`height` are the probed canvas: a frame of another
 * size is refused (AVIF_RESULT_INVALID_IMAGE_GRID), so the caller's
 * buffers, sized from the probe, are never overrun. `*decoded` is the
 * number of frames written. */
int pxg_avifseq_decode(const uint8_t *data, size_t len, uint32_t width, uint32_t height,
                       uint32_t max_frames, uint8_t *const *outs, uint32_t *delays_ms,
                       uint32_t *decoded) {
    *decoded = 0;
    avifDecoder *dec = avifDecoderCreate();
    if (!dec) return AVIF_RESULT_OUT_OF_MEMORY;
    dec->ignoreExif = AVIF_TRUE;
    dec->ignoreXMP = AVIF_TRUE;
    /* The worker pool owns the cores. */
    dec->maxThreads = 1;
    avifResult r = avifDecoderSetIOMemory(dec, data, len);
    if (r == AVIF_RESULT_OK) r = avifDecoderParse(dec);
    while (r == AVIF_RESULT_OK && *decoded < max_frames) {
        r = avifDecoderNextImage(dec);
        if (r == AVIF_RESULT_NO_IMAGES_REMAINING) {
            r = AVIF_RESULT_OK;
            break;
        }
        if (r != AVIF_RESULT_OK) break;
        if (dec->image->width != width || dec->image->height != height) {
            r = AVIF_RESULT_INVALID_IMAGE_GRID;
            break;
        }
        avifRGBImage rgb;
        avifRGBImageSetDefaults(&rgb, dec->image);
        rgb.format = AVIF_RGB_FORMAT_RGBA;
        rgb.depth = 8;
        rgb.pixels = outs[*decoded];
        rgb.rowBytes = width * 4;
        r = avifImageYUVToRGB(dec->image, &rgb);
        if (r != AVIF_RESULT_OK) break;
        double ms = dec->imageTiming.duration * 1000.0 + 0.5;
        delays_ms[*decoded] = ms > 0 && ms < 4294967295.0 ? (uint32_t)ms : 0;
        *decoded += 1;
    }
    avifDecoderDestroy(dec);
    return r;
}

/* Encodes `frames` RGBA frames (frame i at rgba[i]) as an AVIF image
 * sequence that loops forever, each shown for delays_ms[i]. On success
 * `*out` holds the file; free it with pxg_avifseq_free. */
int pxg_avifseq_encode(const uint8_t *const *rgba, uint32_t width, uint32_t height, uint32_t frames,
                       const uint32_t *delays_ms, int quantizer, int speed, uint8_t **out,
                       size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    avifEncoder *enc = avifEncoderCreate();
    if (!enc) return AVIF_RESULT_OUT_OF_MEMORY;
    enc->maxThreads = 1;
    enc->speed = speed;
    enc->timescale = 1000;
    enc->minQuantizer = quantizer;
    enc->maxQuantizer = quantizer;
    enc->minQuantizerAlpha = AVIF_QUANTIZER_LOSSLESS;
    enc->maxQuantizerAlpha = AVIF_QUANTIZER_LOSSLESS;
    avifResult r = AVIF_RESULT_OK;
    for (uint32_t i = 0; i < frames && r == AVIF_RESULT_OK; i++) {
        avifImage *img = avifImageCreate(width, height, 8, AVIF_PIXEL_FORMAT_YUV420);
        if (!img) {
            r = AVIF_RESULT_OUT_OF_MEMORY;
            break;
        }
        avifRGBImage rgb;
        avifRGBImageSetDefaults(&rgb, img);
        rgb.format = AVIF_RGB_FORMAT_RGBA;
        rgb.depth = 8;
        rgb.pixels = (uint8_t *)rgba[i];
        rgb.rowBytes = width * 4;
        r = avifImageRGBToYUV(img, &rgb);
        if (r == AVIF_RESULT_OK) {
            uint64_t d = delays_ms[i] > 0 ? delays_ms[i] : 1;
            r = avifEncoderAddImage(enc, img, d, AVIF_ADD_IMAGE_FLAG_NONE);
        }
        avifImageDestroy(img);
    }
    avifRWData data = AVIF_DATA_EMPTY;
    if (r == AVIF_RESULT_OK) r = avifEncoderFinish(enc, &data);
    avifEncoderDestroy(enc);
    if (r == AVIF_RESULT_OK) {
        *out = data.data;
        *out_len = data.size;
    } else {
        avifRWDataFree(&data);
    }
    return r;
}

void pxg_avifseq_free(uint8_t *p, size_t len) {
    avifRWData data;
    data.data = p;
    data.size = len;
    avifRWDataFree(&data);
}

const char *pxg_avifseq_error(int r) { return avifResultToString((avifResult)r); }
