"""Signs image requests to a running pixgate with the Tencent COS, Qiniu and
QingStor Python SDKs, against private buckets.

Usage: sig_cos_qiniu_qingstor.py HOST PORT ACCESS_KEY SECRET_KEY KEY OUT_DIR
Prints one JSON object: the URLs the SDKs signed (fetched and tampered with
by sig_cos_qiniu_qingstor.rs) and what the SDKs' own header-signed calls
answered (bodies saved under OUT_DIR).

Addressing: COS in single-bucket mode (`Domain=host:port`, the proxy's
default bucket `private`); QingStor path style (`/private/<key>`); Qiniu a
plain URL on bucket `qiniu`, which answers the Qiniu dialect.
"""
import json
import os
import sys
import time

from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosServiceError
from qingstor.sdk.config import Config
from qingstor.sdk.service.qingstor import QingStor
from qiniu import Auth

host, port, ak, sk, key, out_dir = sys.argv[1:7]
endpoint = "http://{0}:{1}".format(host, port)
result = {}


def save(name, body):
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(body)


# --- Tencent COS ------------------------------------------------------------
COS_BUCKET = "private-1250000000"
RULE = "imageMogr2/thumbnail/100x"


def cos(secret_id, secret_key):
    return CosS3Client(
        CosConfig(
            Region="ap-guangzhou",
            SecretId=secret_id,
            SecretKey=secret_key,
            Domain="{0}:{1}".format(host, port),
            Scheme="http",
        )
    )


client = cos(ak, sk)
# Header-signed, the rule listed in q-url-param-list.
client.ci_get_object(
    Bucket=COS_BUCKET,
    Key=key,
    DestImagePath=os.path.join(out_dir, "cos_get"),
    Rule=RULE,
)
result["cos_presigned"] = client.get_presigned_download_url(
    Bucket=COS_BUCKET, Key=key, Params={RULE: ""}, Expired=300
)
# Signed for the object alone; a rule is appended to it by hand.
result["cos_presigned_plain"] = client.get_presigned_download_url(
    Bucket=COS_BUCKET, Key=key, Expired=300
)
# The SDK accepts a negative expiry: the window ended a minute ago.
result["cos_expired"] = client.get_presigned_download_url(
    Bucket=COS_BUCKET, Key=key, Params={RULE: ""}, Expired=-60
)
result["cos_unknown"] = cos("AKIDnobody", sk).get_presigned_download_url(
    Bucket=COS_BUCKET, Key=key, Params={RULE: ""}, Expired=300
)
# Header-signed with a secret the proxy does not hold: the SDK's own error.
for name, c in [("cos_wrong_secret", cos(ak, sk + "x")), ("cos_unknown_header", cos("AKIDnobody", sk))]:
    try:
        c.ci_get_object(
            Bucket=COS_BUCKET,
            Key=key,
            DestImagePath=os.path.join(out_dir, name),
            Rule=RULE,
        )
        result[name] = {"status": 200}
    except CosServiceError as e:
        result[name] = {"status": e.get_status_code(), "code": e.get_error_code()}

# --- Qiniu -------------------------------------------------------------------
# The fop before e= and token=, as Qiniu's private URLs carry it.
url = "{0}/qiniu/{1}?imageView2/2/w/100".format(endpoint, key)
result["qiniu_private"] = Auth(ak, sk).private_download_url(url, expires=300)
result["qiniu_expired"] = Auth(ak, sk).private_download_url(url, expires=-60)
result["qiniu_unknown"] = Auth("nobody", sk).private_download_url(url, expires=300)

# --- QingStor ----------------------------------------------------------------
ACTION = "resize:w_100"


def qingstor(access_key, secret_key):
    config = Config(access_key, secret_key)
    config.host = host
    config.port = int(port)
    config.protocol = "http"
    config.enable_virtual_host_style = False
    config.connection_retries = 0
    # zone "" keeps the Host header at host:port (a zone would be prefixed).
    return QingStor(config).Bucket("private", "")


bucket = qingstor(ak, sk)
for name, b in [
    ("qs_get", bucket),
    ("qs_wrong_secret", qingstor(ak, sk + "x")),
    ("qs_unknown_header", qingstor("nobody", sk)),
]:
    resp = b.image_process(key, action=ACTION)
    save(name, resp.content)
    result[name] = {
        "status": resp.status_code,
        "content_type": resp.headers.get("content-type", ""),
    }
now = int(time.time())
result["qs_signed"] = bucket.image_process_request(key, action=ACTION).sign_query(now + 300).url
result["qs_expired"] = bucket.image_process_request(key, action=ACTION).sign_query(now - 60).url
result["qs_unknown"] = (
    qingstor("nobody", sk).image_process_request(key, action=ACTION).sign_query(now + 300).url
)

print(json.dumps(result))
