"""Asks a running pixgate for QingStor image actions through qingstor-sdk.

Usage: qingstor_sdk.py HOST PORT BUCKET KEY OUT_DIR
Prints one JSON object: for each action, the URL the SDK built, the status
and content type of the answer (bodies saved under OUT_DIR/<name>), and
the status and body of the SDK's own signed image_process() call.

The bucket is public: the SDK's request is sent as it builds it, without
the Authorization header its sign() adds (pixgate does not verify
QingStor signatures; the signed call is reported as it comes back).
"""
import json
import os
import sys

from qingstor.sdk.config import Config
from qingstor.sdk.service.qingstor import QingStor
from qingstor.sdk.utils.helper import url_quote

host, port, bucket_name, key, out_dir = sys.argv[1:6]

config = Config("", "")
config.host = host
config.port = int(port)
config.protocol = "http"
config.enable_virtual_host_style = False
config.connection_retries = 0
# zone "" keeps the Host header at host:port (a zone would be prefixed).
bucket = QingStor(config).Bucket(bucket_name, "")

actions = {
    "resize_rotate": "resize:w_300,h_400|rotate:a_90",
    "crop": "crop:w_100,h_50,g_8",
    "watermark": "watermark:t_5rC05Y2w5paH5a2X,p_0.5",
    "webp": "resize:w_100|format:t_webp",
    "info": "info",
    "bad": "rotate:a_45",
}

result = {}
for name, action in actions.items():
    req = bucket.image_process_request(key, action=action)
    prepared = req.req.prepare()
    # What sign() does to the URL, without the signature.
    prepared.url = url_quote(prepared.url)
    resp = bucket.client.send(prepared)
    open(os.path.join(out_dir, name), "wb").write(resp.content)
    result[name] = {
        "url": prepared.url,
        "status": resp.status_code,
        "content_type": resp.headers.get("content-type", ""),
    }

signed = bucket.image_process(key, action="resize:w_100")
result["signed"] = {
    "status": signed.status_code,
    "body": signed.content.decode("utf-8", "replace"),
}
print(json.dumps(result))
