"""Asks a running pixgate for QingStor image actions through qingstor-sdk.

Usage: qingstor_sdk.py HOST PORT BUCKET KEY OUT_DIR
Prints one JSON object: for each action, the URL the SDK builds and the
status and content type of the SDK's own image_process() answer (bodies
saved under OUT_DIR/<name>).

The bucket is public. The SDK signs every call with its QS scheme, with a
key the proxy holds (pixgate verifies QS signatures: an unknown key would
be refused even on a public bucket).
"""
import json
import os
import sys

from qingstor.sdk.config import Config
from qingstor.sdk.service.qingstor import QingStor

host, port, bucket_name, key, out_dir = sys.argv[1:6]

config = Config("QSAKPIXGATETEST", "qingstor-sdk-test-secret")
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
    # What image_process() sends: its request, signed.
    prepared = bucket.image_process_request(key, action=action).sign()
    resp = bucket.image_process(key, action=action)
    open(os.path.join(out_dir, name), "wb").write(resp.content)
    result[name] = {
        "url": prepared.url,
        "status": resp.status_code,
        "content_type": resp.headers.get("content-type", ""),
        "signed": prepared.headers.get("Authorization", "").startswith("QS "),
    }
print(json.dumps(result))
