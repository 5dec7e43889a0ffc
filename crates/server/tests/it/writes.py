"""Writes through a running pixgate with the official SDKs (boto3, oss2).

Usage: writes.py ENDPOINT ACCESS_KEY SECRET_KEY BUCKET IMAGE BIG_FILE
Prints one JSON object: what the SDKs saw (keys listed, ETags, error codes
of refused calls) and a presigned GET URL for the caller to replay as a PUT.
Each call raises (and the script fails) if the SDK cannot parse the answer.
"""
import json
import sys

import boto3
import oss2
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, ak, sk, bucket_name, image, big = sys.argv[1:7]
data = open(image, "rb").read()
out = {}


def client(secret):
    # The SDK's defaults: over http boto3 signs the body's SHA-256 and adds
    # a CRC32 checksum header (no aws-chunked framing).
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ak,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
        ),
    )


s3 = client(sk)
r = s3.put_object(
    Bucket=bucket_name,
    Key="w/a.jpg",
    Body=data,
    ContentType="image/jpeg",
    Metadata={"author": "pixgate"},
)
out["put_etag"] = r["ETag"]
s3.head_bucket(Bucket=bucket_name)
s3.copy_object(
    Bucket=bucket_name, Key="w/b c.jpg", CopySource={"Bucket": bucket_name, "Key": "w/a.jpg"}
)
s3.put_object(Bucket=bucket_name, Key="w/sub/deep.jpg", Body=data)
listed = s3.list_objects_v2(Bucket=bucket_name, Prefix="w/")
out["list"] = [o["Key"] for o in listed.get("Contents", [])]
out["list_sizes"] = [o["Size"] for o in listed.get("Contents", [])]
listed = s3.list_objects_v2(Bucket=bucket_name, Prefix="w/", Delimiter="/")
out["list_delimited"] = [o["Key"] for o in listed.get("Contents", [])]
out["list_prefixes"] = [p["Prefix"] for p in listed.get("CommonPrefixes", [])]
pages = s3.get_paginator("list_objects_v2").paginate(
    Bucket=bucket_name, Prefix="w/", PaginationConfig={"PageSize": 1}
)
out["paged"] = [o["Key"] for page in pages for o in page.get("Contents", [])]
out["list_v1"] = [
    o["Key"] for o in s3.list_objects(Bucket=bucket_name, Prefix="w/").get("Contents", [])
]
s3.delete_object(Bucket=bucket_name, Key="w/a.jpg")
out["list_after_delete"] = [
    o["Key"] for o in s3.list_objects_v2(Bucket=bucket_name, Prefix="w/").get("Contents", [])
]

try:
    client(sk + "x").put_object(Bucket=bucket_name, Key="w/wrong-secret.jpg", Body=data)
    out["wrong_secret"] = "accepted"
except ClientError as e:
    out["wrong_secret"] = [
        e.response["ResponseMetadata"]["HTTPStatusCode"],
        e.response["Error"]["Code"],
    ]

out["presigned_get"] = s3.generate_presigned_url(
    "get_object", Params={"Bucket": bucket_name, "Key": "w/replayed.jpg"}, ExpiresIn=300
)

bucket = oss2.Bucket(oss2.Auth(ak, sk), endpoint, bucket_name)
r = bucket.put_object("w/oss.jpg", data, headers={"x-oss-meta-author": "oss2"})
out["oss_put_etag"] = r.etag
bucket.put_object("w/oss-gone.jpg", data)
bucket.delete_object("w/oss-gone.jpg")
out["oss_list"] = [o.key for o in bucket.list_objects(prefix="w/").object_list]

# Multipart: upload_file above its threshold (5 MiB parts), and an abort.
try:
    s3.upload_file(
        big,
        bucket_name,
        "w/big.bin",
        Config=TransferConfig(
            multipart_threshold=5 * 1024 * 1024,
            multipart_chunksize=5 * 1024 * 1024,
            use_threads=False,
        ),
    )
    out["multipart"] = "ok"
except Exception as e:  # S3UploadFailedError wraps the ClientError
    out["multipart"] = str(e)
try:
    up = s3.create_multipart_upload(Bucket=bucket_name, Key="w/aborted.bin")
    s3.abort_multipart_upload(Bucket=bucket_name, Key="w/aborted.bin", UploadId=up["UploadId"])
    out["abort"] = "ok"
except ClientError as e:
    out["abort"] = e.response["Error"]["Code"]

print(json.dumps(out))
