"""Saves processed results through a running pixgate with the clouds' own
Python SDKs, and prints what each SDK answered as JSON for save.rs:

- oss2 `Bucket.process_object(key, 'image/…|sys/saveas,o_…,b_…')`;
- cos-python-sdk-v5 `ci_put_object(..., PicOperations=…)` (upload an
  original, store a processed copy) and `ci_image_process` (process a
  stored object);
- qingstor-sdk `image_process(key, action='…|save:b_…,k_…')`;
- esdk-obs-python `createSignedUrl` with `x-image-save-object`/`-bucket`,
  tos `get_object(…, process=…, save_bucket=…, save_object=…)`.

It also prints requests save.rs replays to check refusals: a presigned
GET URL (OSS and COS), a COS Authorization that does not sign the
Pic-Operations header, and a QingStor URL signature with a save.

usage: save.py <endpoint http://host:port> <ak> <sk> <source key> <image path>
"""

import base64
import json
import sys
import time
import urllib.request

import oss2
from qcloud_cos import CosConfig, CosS3Client
from qingstor.sdk.config import Config
from qingstor.sdk.service.qingstor import QingStor

endpoint, ak, sk, source, image = sys.argv[1:6]
host = endpoint.split("://", 1)[1]
ip, port = host.rsplit(":", 1)
result = {}


def b64(s):
    return base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")


# --- Alibaba OSS -------------------------------------------------------------
bucket = oss2.Bucket(oss2.Auth(ak, sk), endpoint, "photos")
r = bucket.process_object(
    source, "image/resize,w_100|sys/saveas,o_{0},b_{1}".format(b64("oss/out.jpg"), b64("thumbs"))
)
result["oss"] = {
    "bucket": r.bucket,
    "fileSize": r.fileSize,
    "object": r.object,
    "status": r.process_status,
}
# Without b_: the source's bucket, answered as "".
r = bucket.process_object(source, "image/resize,w_50/format,png|sys/saveas,o_" + b64("oss/same.png"))
result["oss_same"] = {"bucket": r.bucket, "object": r.object, "fileSize": r.fileSize}
try:
    oss2.Bucket(oss2.Auth(ak, "wrong"), endpoint, "photos").process_object(
        source, "image/resize,w_100|sys/saveas,o_" + b64("oss/wrong.jpg")
    )
    result["oss_wrong_secret"] = "written"
except oss2.exceptions.OssError as e:
    result["oss_wrong_secret"] = [e.status, e.code]
result["oss_presigned_get"] = bucket.sign_url(
    "GET", source, 600, params={"x-oss-process": "image/resize,w_100"}
)

# --- Tencent CI ----------------------------------------------------------------
cos = CosS3Client(
    CosConfig(Region="ap-guangzhou", SecretId=ak, SecretKey=sk, Domain=host, Scheme="http")
)
with open(image, "rb") as f:
    body = f.read()
_, data = cos.ci_put_object(
    Bucket="photos-1250000000",
    Body=body,
    Key="cos/up.jpg",
    PicOperations=json.dumps(
        {
            "is_pic_info": 1,
            "rules": [
                {"fileid": "up-thumb.png", "rule": "imageMogr2/thumbnail/100x/format/png"},
                {"bucket": "thumbs-1250000000", "fileid": "/cos/rotated.jpg", "rule": "imageMogr2/rotate/90"},
            ],
        }
    ),
)
result["cos_put"] = data
_, data = cos.ci_image_process(
    Bucket="photos-1250000000",
    Key=source,
    PicOperations=json.dumps(
        {"rules": [{"fileid": "/cos/processed.jpg", "rule": "imageMogr2/thumbnail/!50p"}]}
    ),
)
result["cos_process"] = data
result["cos_presigned_get"] = cos.get_presigned_url(
    Method="GET", Bucket="photos-1250000000", Key=source, Expired=600
)
# A POST ?image_process signature that lists no Pic-Operations header.
result["cos_auth_without_header"] = cos.get_auth(
    Method="POST",
    Bucket="photos-1250000000",
    Key=source,
    Expired=600,
    Params={"image_process": ""},
)

# --- QingStor ------------------------------------------------------------------
config = Config(ak, sk)
config.host = ip
config.port = int(port)
config.protocol = "http"
config.enable_virtual_host_style = False
config.connection_retries = 0
qs = QingStor(config).Bucket("photos", "")
resp = qs.image_process(source, action="resize:w_120|save:b_thumbs,k_qs/out.jpg")
result["qingstor"] = {
    "status": resp.status_code,
    "content_type": resp.headers.get("content-type", ""),
    "length": len(resp.content),
}
# The URL form signs no `action`: a save in it must be refused.
prepared = qs.image_process_request(source, action="save:k_qs/url.jpg")
result["qingstor_url_save"] = prepared.sign_query(int(time.time()) + 600).url

# --- Huawei OBS and Volcengine TOS ----------------------------------------
# OBS: an IP endpoint gives path style and AWS-V2 URL signatures, which sign
# the save parameters as sub-resources; the name is given as plain text.
from obs import ObsClient

obs = ObsClient(access_key_id=ak, secret_access_key=sk, server=endpoint)
signed = obs.createSignedUrl(
    "GET",
    "photos",
    source,
    expires=600,
    queryParams={
        "x-image-process": "image/resize,w_110",
        "x-image-save-object": "obs/out.jpg",
        "x-image-save-bucket": "thumbs",
    },
)
with urllib.request.urlopen(signed.signedUrl) as r:
    result["obs"] = {"status": r.status, "length": len(r.read())}
obs.close()

# TOS: as a custom domain (the default bucket); the SDK's save arguments
# are base64 the caller encodes.
import tos

client = tos.TosClientV2(ak, sk, endpoint, "cn-beijing", is_custom_domain=True)
out = client.get_object(
    "photos",
    source,
    process="image/resize,w_90",
    save_bucket=base64.b64encode(b"thumbs").decode(),
    save_object=base64.b64encode(b"tos/out.jpg").decode(),
)
result["tos"] = json.loads(out.read())

print(json.dumps(result))
