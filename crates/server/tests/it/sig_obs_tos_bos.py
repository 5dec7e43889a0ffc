"""Signs requests to a running pixgate (a private bucket) with the
OSS-clone clouds' own SDKs: esdk-obs-python (Huawei OBS: its AWS V2 form on
an IP endpoint, its OBS form on a virtual host, its V4 form), tos
(Volcengine TOS) and bce-python-sdk (Baidu BOS).

Usage: sig_obs_tos_bos.py ENDPOINT OBS_DOMAIN ACCESS_KEY SECRET_KEY BUCKET KEY OUT_DIR
Prints one JSON object: the URLs the SDKs signed (fresh and expired), and
for each header-signed call its status and error code; bodies of successful
calls are saved under OUT_DIR.
"""
import json
import os
import socket
import sys
import time

endpoint, obs_domain, ak, sk, bucket, key, out_dir = sys.argv[1:8]
port = endpoint.rsplit(":", 1)[1]
process = "image/resize,w_100"
result = {}


def save(name, body):
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(body)


# Virtual-host names (<bucket>.<OBS_DOMAIN>) reach the loopback pixgate.
_getaddrinfo = socket.getaddrinfo


def _loopback(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith("." + obs_domain):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback

# ---- Huawei OBS ---------------------------------------------------------------
from obs import GetObjectRequest, ObsClient


def obs_get(name, client):
    resp = client.getObject(
        bucket, key, getObjectRequest=GetObjectRequest(imageProcess=process), loadStreamInMemory=True
    )
    result[name] = {"status": resp.status, "code": resp.errorCode or ""}
    if resp.status < 300:
        save(name, resp.body.buffer)


def obs_url(client, expires):
    return client.createSignedUrl(
        "GET", bucket, key, expires=expires, queryParams={"x-image-process": process}
    ).signedUrl


# An IP endpoint: path style, and the SDK signs in its AWS V2 form
# (`AWS ak:sig`, `AWSAccessKeyId`).
aws_form = ObsClient(access_key_id=ak, secret_access_key=sk, server=endpoint)
obs_get("obs_v2_get", aws_form)
result["obs_v2_url"] = obs_url(aws_form, 300)
# A negative expiry: a URL whose Expires is already a minute past.
result["obs_v2_expired"] = obs_url(aws_form, -60)
aws_form.close()

# A host name: virtual host (<bucket>.<domain>); with negotiation off the
# SDK keeps its own OBS form (`OBS ak:sig`, `AccessKeyId`). Path style
# would turn it into the AWS form (the SDK's rule), so this needs a domain.
obs_form = ObsClient(
    access_key_id=ak,
    secret_access_key=sk,
    server="http://%s:%s" % (obs_domain, port),
    signature="obs",
    is_signature_negotiation=False,
)
obs_get("obs_obs_get", obs_form)
result["obs_obs_url"] = obs_url(obs_form, 300)
result["obs_obs_expired"] = obs_url(obs_form, -60)
obs_form.close()

# V4: SigV4 with a Date header and no x-amz-date.
v4 = ObsClient(access_key_id=ak, secret_access_key=sk, server=endpoint, signature="v4")
obs_get("obs_v4_get", v4)
result["obs_v4_url"] = obs_url(v4, 300)
v4.close()

# A wrong secret: the SDK reads OBS's XML error.
wrong = ObsClient(access_key_id=ak, secret_access_key=sk + "x", server=endpoint)
obs_get("obs_wrong_secret", wrong)
wrong.close()

# ---- Volcengine TOS -------------------------------------------------------------
import tos

# Virtual host only; as a custom domain the endpoint is the bucket's own
# host and the path is /key, which pixgate answers from its default bucket.
tc = tos.TosClientV2(ak, sk, endpoint, "cn-beijing", is_custom_domain=True)


def tos_get(name, client):
    try:
        out = client.get_object(bucket, key, process=process)
        save(name, out.read())
        result[name] = {"status": out.status_code, "code": ""}
    except tos.exceptions.TosServerError as e:
        result[name] = {"status": e.status_code, "code": e.code}


tos_get("tos_get", tc)
result["tos_url"] = tc.pre_signed_url(
    tos.HttpMethodType.Http_Method_Get, bucket, key, expires=300, query={"x-tos-process": process}
).signed_url
# X-Tos-Expires is at least 1 s: read after it has passed (below).
result["tos_expired"] = tc.pre_signed_url(
    tos.HttpMethodType.Http_Method_Get, bucket, key, expires=1, query={"x-tos-process": process}
).signed_url
tos_get(
    "tos_wrong_secret",
    tos.TosClientV2(ak, sk + "x", endpoint, "cn-beijing", is_custom_domain=True),
)

# ---- Baidu BOS --------------------------------------------------------------------
from baidubce.auth.bce_credentials import BceCredentials
from baidubce.bce_client_configuration import BceClientConfiguration
from baidubce.exception import BceHttpClientError
from baidubce.http import http_methods
from baidubce.services.bos.bos_client import BosClient


def bos_client(secret):
    return BosClient(
        BceClientConfiguration(credentials=BceCredentials(ak, secret), endpoint=endpoint)
    )


def bos_get(name, client):
    # get_object has no process (or extra parameters) argument: its own
    # sender, with get_object's body parser, carries x-bce-process.
    try:
        got = client._send_request(
            http_methods.GET,
            bucket,
            key,
            params={"x-bce-process": process},
            body_parser=BosClient._parse_bos_object,
        )
        save(name, got.data.read())
        result[name] = {"status": 200, "code": ""}
    except BceHttpClientError as e:
        err = e.last_error
        result[name] = {"status": err.status_code, "code": err.code}


def as_str(url):
    return url.decode() if isinstance(url, bytes) else url


bos = bos_client(sk)
bos_get("bos_get", bos)
result["bos_url"] = as_str(
    bos.generate_pre_signed_url(bucket, key, expiration_in_seconds=300, params={"x-bce-process": process})
)
# Signed an hour ago for a minute: expired now.
result["bos_expired"] = as_str(
    bos.generate_pre_signed_url(
        bucket,
        key,
        timestamp=int(time.time()) - 3600,
        expiration_in_seconds=60,
        params={"x-bce-process": process},
    )
)
bos_get("bos_wrong_secret", bos_client(sk + "x"))

time.sleep(2)
print(json.dumps(result))
