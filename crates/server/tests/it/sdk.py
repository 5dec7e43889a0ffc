"""Signs requests to a running pixgate with the official SDKs.

Usage: sdk.py ENDPOINT ACCESS_KEY SECRET_KEY BUCKET KEY OUT_DIR
Prints one JSON object: URLs the SDKs signed, and what their own
header-signed GETs returned (bodies saved under OUT_DIR).
"""
import json
import os
import sys
import time

import boto3
import oss2
from botocore.config import Config

endpoint, ak, sk, bucket_name, key, out_dir = sys.argv[1:7]
process = "image/resize,w_100"
result = {}

s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    aws_access_key_id=ak,
    aws_secret_access_key=sk,
    region_name="us-east-1",
    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
)
result["boto3_presigned"] = s3.generate_presigned_url(
    "get_object", Params={"Bucket": bucket_name, "Key": key}, ExpiresIn=300
)
got = s3.get_object(Bucket=bucket_name, Key=key)["Body"].read()
open(os.path.join(out_dir, "boto3_get"), "wb").write(got)

auth = oss2.Auth(ak, sk)
bucket = oss2.Bucket(auth, endpoint, bucket_name)
got = bucket.get_object(key, process=process).read()
open(os.path.join(out_dir, "oss2_get_process"), "wb").write(got)
result["oss2_signed"] = bucket.sign_url("GET", key, 300, params={"x-oss-process": process})
result["oss2_signed_original"] = bucket.sign_url("GET", key, 300)

# OSS V4 (OSS4-HMAC-SHA256), as the current OSS SDKs sign.
v4 = oss2.Bucket(oss2.AuthV4(ak, sk), endpoint, bucket_name, region="cn-hangzhou")
got = v4.get_object(key, process=process).read()
open(os.path.join(out_dir, "oss2v4_get_process"), "wb").write(got)
result["oss2v4_signed"] = v4.sign_url("GET", key, 300, params={"x-oss-process": process})

# URLs that expire one second from now, read after they have.
result["boto3_expired"] = s3.generate_presigned_url(
    "get_object", Params={"Bucket": bucket_name, "Key": key}, ExpiresIn=1
)
result["oss2_expired"] = bucket.sign_url("GET", key, 1, params={"x-oss-process": process})
result["oss2v4_expired"] = v4.sign_url("GET", key, 1, params={"x-oss-process": process})
time.sleep(2.2)
print(json.dumps(result))
