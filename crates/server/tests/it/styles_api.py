"""Style management through a running pixgate with the official OSS SDKs
(oss2's put/get/list/delete_bucket_style, alibabacloud-oss-v2's
put/get/list/delete_style).

Usage:
  styles_api.py put ENDPOINT AK SK BUCKET NAME CONTENT   one PutStyle (oss2)
  styles_api.py delete ENDPOINT AK SK BUCKET NAME        one DeleteStyle (oss2)
  styles_api.py suite ENDPOINT AK SK BUCKET              every call and refusal
  styles_api.py cos ENDPOINT AK SK BUCKET                Tencent CI's style calls
                                                         (cos-python-sdk-v5)
Prints one JSON object. An answer the SDK cannot parse raises (and fails).
"""
import json
import sys

import oss2

cmd, endpoint, ak, sk, bucket_name = sys.argv[1:6]
bucket = oss2.Bucket(oss2.Auth(ak, sk), endpoint, bucket_name)
out = {}


def cos_suite():
    from qcloud_cos import CosConfig, CosS3Client
    from qcloud_cos.cos_exception import CosServiceError

    # A custom domain: the SDK sends its pic-host calls there too.
    host = endpoint.split("://", 1)[1]
    cos = CosS3Client(
        CosConfig(Region="ap-guangzhou", SecretId=ak, SecretKey=sk, Domain=host, Scheme="http")
    )
    b = "photos-1250000000"
    cos.ci_put_image_style(
        Bucket=b, Request={"StyleName": "cstyle", "StyleBody": "imageMogr2/thumbnail/100x"}
    )
    _, got = cos.ci_get_image_style(Bucket=b, Request={"StyleName": "cstyle"})
    rule = got["StyleRule"]
    out["get"] = [rule["StyleName"], rule["StyleBody"]]
    cos.ci_put_image_style(
        Bucket=b, Request={"StyleName": "gone", "StyleBody": "imageMogr2/thumbnail/20x"}
    )
    cos.ci_delete_image_style(Bucket=b, Request={"StyleName": "gone"})
    _, listed = cos.ci_get_image_style(Bucket=b, Request={})
    rules = listed["StyleRule"]
    rules = rules if isinstance(rules, list) else [rules]
    out["list"] = sorted(r["StyleName"] for r in rules)
    try:
        cos.ci_put_image_style(Bucket=b, Request={"StyleName": "bad!name", "StyleBody": "imageMogr2/thumbnail/1x"})
        out["bad_name"] = [200, None]
    except CosServiceError as e:
        out["bad_name"] = [e.get_status_code(), e.get_error_code()]


def refused(call):
    """(status, code) of a call the server refuses."""
    try:
        call()
    except oss2.exceptions.OssError as e:
        return [e.status, e.code]
    return [200, None]


if cmd == "put":
    name, content = sys.argv[6:8]
    out["status"] = bucket.put_bucket_style(name, content).status
elif cmd == "delete":
    out["status"] = bucket.delete_bucket_style(sys.argv[6]).status
elif cmd == "suite":
    out["put"] = bucket.put_bucket_style("small", "image/resize,w_100").status
    got = bucket.get_bucket_style("small")
    out["get"] = [got.name, got.content, got.create_time, got.last_modify_time]
    # Replacing keeps one style of the name.
    bucket.put_bucket_style("tiny", "image/resize,w_20")
    bucket.put_bucket_style("tiny", "image/resize,w_40")
    listed = bucket.list_bucket_style()
    out["list"] = [[s.name, s.content] for s in listed.styles]
    out["delete"] = bucket.delete_bucket_style("tiny").status
    out["get_deleted"] = refused(lambda: bucket.get_bucket_style("tiny"))
    out["delete_deleted"] = refused(lambda: bucket.delete_bucket_style("tiny"))
    out["bad_name"] = refused(lambda: bucket.put_bucket_style("Images!tyle", "image/resize,w_1"))
    out["long_name"] = refused(lambda: bucket.put_bucket_style("x" * 64, "image/resize,w_1"))
    out["empty_content"] = refused(lambda: bucket.put_bucket_style("empty", ""))
    out["bad_content"] = refused(lambda: bucket.put_bucket_style("bad", "image/resize,w_0"))
    out["configured"] = refused(lambda: bucket.put_bucket_style("cfg", "image/resize,w_1"))
    # "small" and the configured "cfg" make 2: 48 more fill the bucket.
    for i in range(48):
        bucket.put_bucket_style("s%02d" % i, "image/resize,w_%d" % (i + 1))
    out["fifty_first"] = refused(lambda: bucket.put_bucket_style("one-too-many", "image/resize,w_1"))
    out["count_full"] = len(bucket.list_bucket_style().styles)
    for i in range(48):
        bucket.delete_bucket_style("s%02d" % i)
    out["count_after"] = len(bucket.list_bucket_style().styles)

    # The same calls from the newer SDK (V4 signatures).
    import alibabacloud_oss_v2 as oss

    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(ak, sk)
    cfg.region = "cn-hangzhou"
    cfg.endpoint = endpoint
    v2 = oss.Client(cfg)
    r = v2.put_style(
        oss.PutStyleRequest(
            bucket=bucket_name,
            style_name="v2style",
            style=oss.StyleContent(content="image/resize,w_60"),
        )
    )
    out["v2_put"] = r.status_code
    r = v2.get_style(oss.GetStyleRequest(bucket=bucket_name, style_name="v2style"))
    out["v2_get"] = [r.style.name, r.style.content]
    r = v2.list_style(oss.ListStyleRequest(bucket=bucket_name))
    out["v2_list"] = sorted(s.name for s in r.style_list.styles)
    r = v2.delete_style(oss.DeleteStyleRequest(bucket=bucket_name, style_name="v2style"))
    out["v2_delete"] = r.status_code
elif cmd == "cos":
    cos_suite()
else:
    raise SystemExit("unknown command " + cmd)

print(json.dumps(out))
