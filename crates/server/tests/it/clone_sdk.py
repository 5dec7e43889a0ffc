"""Requests to a running pixgate from the OSS-clone clouds' own SDKs:
esdk-obs-python (Huawei OBS), tos (Volcengine TOS), bce-python-sdk (Baidu
BOS), against a public bucket. OBS and TOS send no signature (empty
keys); BOS always signs, with a key the test's pixgate knows.

Usage: clone_sdk.py ENDPOINT BUCKET KEY OUT_DIR
Prints one JSON object: per call, its status and error code; bodies of
successful image calls are saved under OUT_DIR.
"""
import json
import os
import sys
import urllib.error
import urllib.request

endpoint, bucket, key, out_dir = sys.argv[1:5]
result = {}


def save(name, body):
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(body)


# Huawei OBS. An IP endpoint makes the SDK use path style (/bucket/key);
# empty keys make it send no Authorization header.
from obs import GetObjectRequest, ObsClient

obs = ObsClient(access_key_id="", secret_access_key="", server=endpoint)
for name, process in [
    ("obs_resize", "image/resize,m_fixed,w_100,h_100/rotate,90"),
    ("obs_crop", "image/crop,w_120,h_50,g_br"),
    ("obs_info", "image/info"),
    ("obs_bad", "image/crop,w_10,h_10,g_middle"),
]:
    resp = obs.getObject(
        bucket, key, getObjectRequest=GetObjectRequest(imageProcess=process), loadStreamInMemory=True
    )
    result[name] = {"status": resp.status, "code": resp.errorCode or ""}
    if resp.status < 300:
        save(name, resp.body.buffer)
obs.close()

# Volcengine TOS. The SDK addresses buckets by virtual host
# (<bucket>.<endpoint>), which an IP endpoint cannot carry; as a custom
# domain the endpoint is the bucket's own host and the path is /key, which
# pixgate answers from its default bucket. Empty keys: AnonymousAuth.
import tos

client = tos.TosClientV2("", "", endpoint, "cn-beijing", is_custom_domain=True)
for name, process in [
    ("tos_resize", "image/resize,w_100"),
    ("tos_info", "image/info"),
    ("tos_bad", "image/slim,1"),
]:
    try:
        out = client.get_object(bucket, key, process=process)
        body = out.read()
        result[name] = {"status": out.status_code, "code": ""}
        save(name, body)
    except tos.exceptions.TosServerError as e:
        result[name] = {"status": e.status_code, "code": e.code, "request_id": e.request_id}

# Baidu BOS. The SDK always signs (bce-auth-v1); its presigned URL carries
# the signature in `authorization=`, which pixgate verifies.
from baidubce.auth.bce_credentials import BceCredentials
from baidubce.bce_client_configuration import BceClientConfiguration
from baidubce.exception import BceHttpClientError
from baidubce.services.bos.bos_client import BosClient

bos = BosClient(
    BceClientConfiguration(credentials=BceCredentials("ak", "sk"), endpoint=endpoint)
)
for name, process in [
    ("bos_resize", "image/resize,wp_50,hp_25"),
    ("bos_rotate", "image/rotate,a_-90"),
    ("bos_bad", "image/rotate,a_400"),
]:
    url = bos.generate_pre_signed_url(bucket, key, params={"x-bce-process": process})
    url = url.decode() if isinstance(url, bytes) else url
    try:
        with urllib.request.urlopen(url) as r:
            save(name, r.read())
            result[name] = {"status": r.status, "code": ""}
    except urllib.error.HTTPError as e:
        body = json.loads(e.read())
        result[name] = {"status": e.code, "code": body.get("code", "")}
# The same process through the SDK's own header-signed request path (this
# SDK's get_object has no process argument, so its sender with
# get_object's own body parser).
from baidubce.http import http_methods

try:
    got = bos._send_request(
        http_methods.GET,
        bucket,
        key,
        params={"x-bce-process": "image/resize,w_100"},
        body_parser=BosClient._parse_bos_object,
    )
    save("bos_signed_get", got.data.read())
    result["bos_signed_get"] = {"status": 200, "code": ""}
except BceHttpClientError as e:
    # The SDK wraps the error it parsed from the body.
    err = e.last_error
    result["bos_signed_get"] = {"status": err.status_code, "code": err.code}

print(json.dumps(result))
