"""Builds Tencent CI and Qiniu image-processing URLs with the clouds' own
Python SDKs (cos-python-sdk-v5 `qcloud_cos`, `qiniu`), pointed at a running
pixgate, and prints them as JSON for ci_sdk.rs, which fetches them.

usage: ci_sdk.py <cos endpoint http://host:port> <qiniu endpoint> <key> <out dir>

Neither SDK needs a cloud host: CosConfig takes `Domain` (a custom domain,
used verbatim as host:port) and `Scheme="http"`; Qiniu URLs are built on
any base URL.
"""

import json
import os
import sys

from qcloud_cos import CosConfig, CosS3Client
from qiniu import Auth
from qiniu.services.processing.cmd import build_op, pipe_cmd

endpoint, qiniu_endpoint, key, out_dir = sys.argv[1:5]
host = endpoint.split("://", 1)[1]
result = {}

# --- Tencent COS -----------------------------------------------------------
# A signed URL: the SDK puts its q-sign-* parameters first and the rule, a
# key with an empty value, after them (what the COS console copies too).
signed = CosS3Client(
    CosConfig(
        Region="ap-guangzhou",
        SecretId="AKIDpixgate",
        SecretKey="pixgate-secret",
        Domain=host,
        Scheme="http",
    )
)
result["cos_presigned"] = signed.get_presigned_download_url(
    Bucket="photos-1250000000",
    Key=key,
    Params={"imageMogr2/thumbnail/!50p/format/png": ""},
)

# The SDK's own requests: `ci_get_object` anonymous (the SDK then sends an
# empty `Authorization:` header) and `ci_get_image_info` signed with COS's
# q-sign scheme (a key the proxy holds). Also the object URL, for a rule
# appended by hand.
anon = CosS3Client(
    CosConfig(Region="ap-guangzhou", Anonymous=True, Domain=host, Scheme="http")
)
result["cos_object_url"] = anon.get_object_url(Bucket="photos-1250000000", Key=key)
result["cos_image_info"] = signed.get_presigned_download_url(
    Bucket="photos-1250000000", Key=key, Params={"imageInfo": ""}
)
anon.ci_get_object(
    Bucket="photos-1250000000",
    Key=key,
    DestImagePath=os.path.join(out_dir, "cos_ci_get_object"),
    Rule="imageMogr2/thumbnail/!50p/format/png",
)
_, data = signed.ci_get_image_info(Bucket="photos-1250000000", Key=key)
result["cos_ci_get_image_info"] = json.loads(data)

# --- Qiniu -----------------------------------------------------------------
# The fop builder and pipe, and a private download URL (e= and token=
# after the spec, as Qiniu documents).
fop = pipe_cmd(
    build_op("imageView2", "1", w=120, h=90),
    build_op("imageMogr2", None, rotate=90, format="png"),
)
auth = Auth("qiniu-ak", "qiniu-sk")
result["qiniu_fop"] = fop
result["qiniu_private"] = auth.private_download_url(
    "{0}/{1}?{2}".format(qiniu_endpoint, key, fop), expires=3600
)

print(json.dumps(result))
