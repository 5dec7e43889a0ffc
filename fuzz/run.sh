#!/usr/bin/env bash
# Runs one fuzz target for a while, seeded from the shared corpus and the
# reference's process strings.  Usage: fuzz/run.sh TARGET SECONDS
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on stable with -s none.
set -euo pipefail
cd "$(dirname "$0")"
target=$1
seconds=${2:-60}
shared=../../shared/corpus
mkdir -p "corpus/$target"
seeds=()
case "$target" in
  decode)
    seeds=("$shared/formats" "$shared/bad" "$shared/exif" "$shared/orientation")
    # SVG and JPEG XL seeds (the shared corpus has none): a small SVG using
    # patterns, gradients, text and a data: image, and cjxl encodes.
    printf '%s' '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30" viewBox="0 0 40 30"><defs><pattern id="p" width="4" height="4" patternUnits="userSpaceOnUse"><rect width="2" height="2" fill="red"/></pattern><linearGradient id="g"><stop offset="0" stop-color="#0f0"/><stop offset="1" stop-color="#00f"/></linearGradient><filter id="b"><feGaussianBlur stdDeviation="1"/></filter></defs><rect width="40" height="30" fill="url(#p)"/><circle cx="20" cy="15" r="9" fill="url(#g)" filter="url(#b)"/><text x="2" y="28" font-size="8">Hi</text><image width="4" height="4" href="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="/></svg>' > "corpus/$target/seed.svg"
    if command -v cjxl >/dev/null 2>&1; then
      cjxl "$shared/formats/hopper.png" "corpus/$target/hopper-lossless.jxl" -d 0 --quiet || true
      cjxl "$shared/formats/hopper.jpg" "corpus/$target/hopper-recompressed.jxl" --quiet || true
      cjxl "$shared/formats/hopper.png" "corpus/$target/hopper-lossy.jxl" -d 2 --quiet || true
    fi
    # Baseline JPEG with restart markers (the DC decoder follows them).
    if command -v jpegtran >/dev/null 2>&1; then
      jpegtran -restart 1 -outfile "corpus/$target/restart.jpg" "$shared/formats/hopper.jpg" || true
    fi
    # TIFF layouts libtiff reads (libtiff-tools), small: JPEG/YCbCr, tiled
    # Deflate, planar LZW BigTIFF, G4 fax, a two-page file.
    if command -v tiffcp >/dev/null 2>&1; then
      t="corpus/$target"
      tiffcrop -U px -z 1,1,64,64 "$shared/formats/hopper.tif" "$t/.crop.tif" 2>/dev/null \
        || cp "$shared/formats/hopper.tif" "$t/.crop.tif"
      tiffcp -c jpeg -r 16 "$t/.crop.tif" "$t/tiff-jpeg.tif" || true
      tiffcp -t -w 16 -l 16 -c zip "$t/.crop.tif" "$t/tiff-tiled.tif" || true
      tiffcp -8 -p separate -c lzw "$t/.crop.tif" "$t/tiff-big-planar.tif" || true
      tiff2bw "$t/.crop.tif" "$t/.grey.tif" && tiffdither -c g4 "$t/.grey.tif" "$t/tiff-g4.tif" || true
      tiffcp "$t/tiff-jpeg.tif" "$t/tiff-g4.tif" "$t/tiff-pages.tif" || true
      rm -f "$t/.crop.tif" "$t/.grey.tif"
    fi
    # Animations: a 3-frame APNG (Pillow) and AVIF sequence (libavif-bin).
    python3 - "corpus/$target" <<'PY' || true
import sys
from PIL import Image
frames = [Image.new("RGB", (24, 16), c) for c in ((200, 0, 0), (0, 200, 0), (0, 0, 200))]
frames[0].save(f"{sys.argv[1]}/anim.png", save_all=True, append_images=frames[1:], duration=[40, 80, 120], loop=0)
for i, f in enumerate(frames):
    f.save(f"{sys.argv[1]}/.f{i}.png")
PY
    if command -v avifenc >/dev/null 2>&1; then
      t="corpus/$target"
      avifenc -s 10 --duration 2 "$t/.f0.png" "$t/.f1.png" "$t/.f2.png" "$t/anim.avif" >/dev/null || true
      rm -f "$t"/.f?.png
    fi ;;
  process_string)
    for s in 'resize,m_fixed,w_100,h_100' 'crop,w_100,h_100,x_100,y_100,r_1' 'rotate,90' \
             'resize,w_200/rotate,90' 'circle,r_100/format,png' 'indexcrop,x_100,i_0' \
             'watermark,text_SGVsbG8gV29ybGQ' 'quality,q_90' 'format,webp/interlace,1' \
             'blur,r_3,s_2' 'auto-orient,0/bright,50/contrast,-50/sharpen,100' 'info' 'average-hue' \
             'watermark,image_cGFuZGEucG5nP3gtb3NzLXByb2Nlc3M9aW1hZ2UvcmVzaXplLFBfMzA,t_90,g_se,x_10,y_10' \
             'watermark,text_5rC05Y2w5paH5a2X,type_d3F5LXplbmhlaQ,size_30,color_FFFFFF,shadow_50,fill_1,padx_5' \
             'watermark,image_cGFuZGEucG5n,text_SGVsbG8,order_1,align_1,interval_5' \
             'imageMogr2/thumbnail/!50p|imageMogr2/crop/!300x400-10a10/gravity/center' \
             'imageMogr2/thumbnail/300x300</pad/1/color/IzNEM0QzRA/format/webp/quality/80!' \
             'imageView2/1/w/200/h/200/q/85' 'imageMogr2/cut/100x100x10x10/iradius/20/size-limit/15k!' \
             'watermark/2/text/5rC05Y2w5paH5a2X/fontsize/20/fill/IzNEM0QzRA/gravity/southeast/dx/10/dy/10' \
             'watermark/1/image/aHR0cDovL2EuY29tL2IucG5n/scatype/1/spcent/500/blogo/1' \
             'image&action=resize:w_300,h_400|rotate:a_90|watermark:t_5rC05Y2w5paH5a2X,p_0.5' \
             'x-bce-process=image/resize,wp_50,hp_25/rotate,a_-90' \
             'x-image-process=image/crop,g_br,w_100,h_100/average-hue' \
             'x-tos-process=image/resize,w_100/format,webp'; do
      printf '%s' "$s" > "corpus/$target/$(printf '%s' "$s" | md5sum | cut -c1-16)"
    done ;;
  signature)
    printf '%s\n%s\n%s\n%s' 'AWS4-HMAC-SHA256 Credential=AK/20261128/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00' '' '/b/k' '20261128T000000Z' > corpus/signature/v4
    printf '%s\n%s\n%s\n%s' 'OSS AK:c2ln' 'x-oss-process=image/resize,w_1' '/b/k' 'Sat, 28 Nov 2026 00:00:00 GMT' > corpus/signature/v1
    printf '%s\n%s\n%s\n%s' '' 'x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=AK/20261128/cn-hangzhou/oss/aliyun_v4_request&x-oss-date=20261128T000000Z&x-oss-expires=60&x-oss-signature=00' '/b/k' '' > corpus/signature/v4url
    printf '%s\n%s\n%s\n%s' 'OBS AK:c2ln' 'x-image-process=image/resize,w_1' '/b/k' 'Mon, 24 Nov 2025 16:00:00 GMT' > corpus/signature/obs
    printf '%s\n%s\n%s\n%s' 'AWS AK:c2ln' 'x-image-process=image/resize,w_1&acl' '/b/k' 'Mon, 24 Nov 2025 16:00:00 GMT' > corpus/signature/awsv2
    printf '%s\n%s\n%s\n%s' '' 'x-image-process=image/resize,w_1&Expires=1764000060&AccessKeyId=AK&Signature=c2ln' '/b/k' '' > corpus/signature/obsurl
    printf '%s\n%s\n%s\n%s' '' 'AWSAccessKeyId=AK&Expires=1764000060&Signature=c2ln' '/b/k' '' > corpus/signature/awsv2url
    printf '%s\n%s\n%s\n%s' 'AWS4-HMAC-SHA256 Credential=AK/20251124/region/s3/aws4_request,SignedHeaders=date;host,Signature=00' '' '/b/k' 'Mon, 24 Nov 2025 16:00:00 GMT' > corpus/signature/obsv4
    printf '%s\n%s\n%s\n%s' 'TOS4-HMAC-SHA256 Credential=AK/20251124/cn-beijing/tos/request, SignedHeaders=host;x-tos-date, Signature=00' 'x-tos-process=image/resize,w_1' '/b/k' '20251124T160000Z' > corpus/signature/tos
    printf '%s\n%s\n%s\n%s' '' 'x-tos-process=image/resize,w_1&X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Credential=AK%2F20251124%2Fcn-beijing%2Ftos%2Frequest&X-Tos-Date=20251124T160000Z&X-Tos-Expires=60&X-Tos-SignedHeaders=host&X-Tos-Signature=00' '/b/k' '' > corpus/signature/tosurl
    printf '%s\n%s\n%s\n%s' 'bce-auth-v1/AK/2025-11-24T16:00:00Z/1800//00' 'x-bce-process=image/resize,w_1' '/b/k' '' > corpus/signature/bos
    printf '%s\n%s\n%s\n%s' '' 'authorization=bce-auth-v1%2FAK%2F2025-11-24T16%3A00%3A00Z%2F-1%2Fhost%2F00&x-bce-process=image/resize,w_1' '/b/k' '' > corpus/signature/bosurl
    printf '%s\n%s\n%s\n%s' 'q-sign-algorithm=sha1&q-ak=AK&q-sign-time=1763999000;1764003600&q-key-time=1763999000;1764003600&q-header-list=host&q-url-param-list=imagemogr2%2fthumbnail%2f%2150p&q-signature=2f2080b360d17dbd25dd795d919dfc54cc1af996' 'imageMogr2%2Fthumbnail%2F%2150p=' '/k' '' > corpus/signature/cos
    printf '%s\n%s\n%s\n%s' '' 'q-sign-algorithm=sha1&q-ak=AK&q-sign-time=1763999000%3B1764003600&q-key-time=1763999000%3B1764003600&q-header-list=host&q-url-param-list=imagemogr2%252fthumbnail%252f%252150p&q-signature=6bd6012898e6c5354d09d7a399a75870f92fc38f&imageMogr2%2Fthumbnail%2F%2150p=' '/k' '' > corpus/signature/cosurl
    printf '%s\n%s\n%s\n%s' '' 'imageView2/1/w/100/h/100&e=1764003600&token=AK:gTImfuQNJjdUCrbDcHEu84KA7nI=' '/k' '' > corpus/signature/qiniu
    printf '%s\n%s\n%s\n%s' 'QS AK:+j0gxG0cENytK4Pzf0vxvStLbGXU9CN1mkpMnw4VC4c=' 'action=resize%3Aw_100&image' '/b/k' 'Mon, 24 Nov 2025 16:00:00 GMT' > corpus/signature/qingstor
    printf '%s\n%s\n%s\n%s' '' 'action=resize%3Aw_100&image&signature=dOARldxmdQ9n2LvIQJpmbK%2BdMxFInvXXseBq6e4CW58%3D&access_key_id=AK&expires=1764003600' '/b/k' '' > corpus/signature/qingstorurl ;;
esac
exec cargo fuzz run -s none "$target" "corpus/$target" "${seeds[@]}" -- \
  -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=2048 -print_final_stats=1
