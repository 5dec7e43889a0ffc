//! Metadata endpoints: OSS image/info, QingStor ?image&action=info, COS
//! ?exif / ?imageInfo / ?imageAve — checked against exiftool and against the
//! service documents' own examples.

use serde_json::Value;

use crate::process::{Out, corpus_proxy, get};
use crate::support::{Pixgate, client, corpus};

async fn json(px: &Pixgate, path: &str) -> Value {
    let res = client().get(px.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    assert_eq!(res.headers()["content-type"], "application/json", "{path}");
    serde_json::from_str(&res.text().await.unwrap()).unwrap()
}

fn oss(v: &Value, key: &str) -> Option<String> {
    v.get(key).map(|f| {
        f["value"]
            .as_str()
            .expect("every OSS info value is a string")
            .to_owned()
    })
}

/// `n/d` (or several, space-separated: the first) as a number.
fn rational(s: &str) -> f64 {
    let first = s.split(' ').next().unwrap();
    let (n, d) = first.split_once('/').unwrap_or((first, "1"));
    n.parse::<f64>().unwrap() / d.parse::<f64>().unwrap()
}

/// `39deg 54' 26.68" ` as decimal degrees.
fn dms(s: &str) -> f64 {
    let mut total = 0.0;
    for (part, div) in s.split_whitespace().zip([1.0, 60.0, 3600.0]) {
        let num: String = part
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        total += num.parse::<f64>().unwrap() / div;
    }
    total
}

#[tokio::test]
async fn oss_info_agrees_with_exiftool_on_every_jpeg() {
    let px = corpus_proxy().await;
    let mut files = Vec::new();
    for dir in ["exif", "photos"] {
        for e in std::fs::read_dir(corpus().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "jpg") {
                files.push(format!(
                    "{dir}/{}",
                    p.file_name().unwrap().to_str().unwrap()
                ));
            }
        }
    }
    files.sort();
    let out = std::process::Command::new("exiftool")
        .current_dir(corpus())
        .args(["-j", "-n", "-q", "-q"])
        .args([
            "-EXIF:Make",
            "-EXIF:Model",
            "-EXIF:ModifyDate",
            "-EXIF:Orientation",
        ])
        .args([
            "-EXIF:XResolution",
            "-EXIF:YResolution",
            "-File:ImageWidth",
            "-File:ImageHeight",
        ])
        .args([
            "-EXIF:GPSLatitude",
            "-EXIF:GPSLatitudeRef",
            "-EXIF:GPSLongitude",
        ])
        .args(["-EXIF:GPSLongitudeRef", "-EXIF:GPSAltitude"])
        .args(&files)
        .output()
        .expect("exiftool (libimage-exiftool-perl, installed by scripts/install-deps)");
    let oracle: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(oracle.len(), files.len());
    let mut gps_checked = 0;
    for (file, want) in files.iter().zip(&oracle) {
        let got = json(&px, &format!("/{file}?x-oss-process=image/info")).await;
        let text = |k: &str| {
            want.get(k)
                .map(|v| v.to_string().trim_matches('"').trim().to_owned())
        };
        for (ours, theirs) in [
            ("Make", "Make"),
            ("Model", "Model"),
            ("DateTime", "ModifyDate"),
        ] {
            assert_eq!(
                oss(&got, ours).map(|s| s.trim().to_owned()),
                text(theirs),
                "{file} {ours}"
            );
        }
        assert_eq!(
            oss(&got, "Orientation"),
            text("Orientation"),
            "{file} Orientation"
        );
        assert_eq!(
            oss(&got, "ImageWidth"),
            text("ImageWidth"),
            "{file} ImageWidth"
        );
        assert_eq!(
            oss(&got, "ImageHeight"),
            text("ImageHeight"),
            "{file} ImageHeight"
        );
        for k in ["XResolution", "YResolution"] {
            if let Some(theirs) = want.get(k).and_then(Value::as_f64) {
                let ours = rational(&oss(&got, k).unwrap_or_else(|| panic!("{file}: no {k}")));
                assert!(
                    (ours - theirs).abs() < 1e-6,
                    "{file} {k}: {ours} vs {theirs}"
                );
            }
        }
        for (k, r, names) in [
            (
                "GPSLatitude",
                "GPSLatitudeRef",
                [("N", "North"), ("S", "South")],
            ),
            (
                "GPSLongitude",
                "GPSLongitudeRef",
                [("E", "East"), ("W", "West")],
            ),
        ] {
            if let Some(theirs) = want.get(k).and_then(Value::as_f64) {
                let ours = dms(&oss(&got, k).unwrap_or_else(|| panic!("{file}: no {k}")));
                assert!(
                    (ours - theirs.abs()).abs() < 1e-5,
                    "{file} {k}: {ours} vs {theirs}"
                );
                gps_checked += 1;
            }
            if let Some(theirs) = want.get(r).and_then(Value::as_str) {
                let spelled = names
                    .iter()
                    .find(|(a, _)| *a == theirs)
                    .map_or(theirs, |(_, b)| b);
                assert_eq!(oss(&got, r).as_deref(), Some(spelled), "{file} {r}");
            }
        }
        if let Some(theirs) = want.get("GPSAltitude").and_then(Value::as_f64) {
            let ours = rational(&oss(&got, "GPSAltitude").unwrap());
            assert!((ours - theirs).abs() < 1e-6, "{file} GPSAltitude");
        }
        // The basics are always there.
        for k in [
            "FileSize",
            "Format",
            "FrameCount",
            "ImageHeight",
            "ImageWidth",
        ] {
            assert!(oss(&got, k).is_some(), "{file}: no {k}");
        }
        assert_eq!(oss(&got, "Format").as_deref(), Some("jpg"));
        let size = std::fs::metadata(corpus().join(file)).unwrap().len();
        assert_eq!(oss(&got, "FileSize"), Some(size.to_string()));
    }
    assert!(
        gps_checked >= 6,
        "only {gps_checked} GPS coordinates compared"
    );
    px.stop().await;
}

/// A TIFF (EXIF) block written by hand, big-endian: exactly the fields given.
mod tiff {
    pub enum V<'a> {
        Byte(&'a [u8]),
        Ascii(&'a str),
        Short(u16),
        Long(u32),
        Rational(&'a [(u32, u32)]),
        Undefined(&'a [u8]),
    }

    impl V<'_> {
        fn encode(&self) -> (u16, u32, Vec<u8>) {
            match self {
                V::Byte(b) => (1, b.len() as u32, b.to_vec()),
                V::Ascii(s) => {
                    let mut b = s.as_bytes().to_vec();
                    b.push(0);
                    (2, b.len() as u32, b)
                }
                V::Short(v) => (3, 1, v.to_be_bytes().to_vec()),
                V::Long(v) => (4, 1, v.to_be_bytes().to_vec()),
                V::Rational(r) => (
                    5,
                    r.len() as u32,
                    r.iter()
                        .flat_map(|(n, d)| [n.to_be_bytes(), d.to_be_bytes()].concat())
                        .collect(),
                ),
                V::Undefined(b) => (7, b.len() as u32, b.to_vec()),
            }
        }
    }

    pub type Ifd<'a> = Vec<(u16, V<'a>)>;
    /// Tag and its encoded (type, count, bytes).
    type Entry = (u16, (u16, u32, Vec<u8>));

    fn entries(ifd: &Ifd) -> Vec<Entry> {
        let mut e: Vec<Entry> = ifd.iter().map(|(t, v)| (*t, v.encode())).collect();
        e.sort_by_key(|e| e.0);
        e
    }

    fn ifd_size(e: &[Entry]) -> usize {
        2 + 12 * e.len() + 4
    }

    /// Bytes of the values too large for their entry, padded to even.
    fn data_size(e: &[Entry]) -> usize {
        e.iter()
            .map(|(_, (_, _, b))| {
                if b.len() > 4 {
                    b.len() + b.len() % 2
                } else {
                    0
                }
            })
            .sum()
    }

    /// Writes one IFD; out-of-line values go to `data` at `data_at`.
    fn write(out: &mut Vec<u8>, data: &mut Vec<u8>, data_at: &mut usize, e: Vec<Entry>, next: u32) {
        out.extend_from_slice(&(e.len() as u16).to_be_bytes());
        for (tag, (ty, count, mut bytes)) in e {
            out.extend_from_slice(&tag.to_be_bytes());
            out.extend_from_slice(&ty.to_be_bytes());
            out.extend_from_slice(&count.to_be_bytes());
            if bytes.len() <= 4 {
                bytes.resize(4, 0);
                out.extend_from_slice(&bytes);
            } else {
                out.extend_from_slice(&(*data_at as u32).to_be_bytes());
                bytes.resize(bytes.len() + bytes.len() % 2, 0);
                *data_at += bytes.len();
                data.extend_from_slice(&bytes);
            }
        }
        out.extend_from_slice(&next.to_be_bytes());
    }

    /// header | IFD0 (+ Exif and GPS pointers) | Exif IFD | GPS IFD | IFD1 |
    /// out-of-line values | thumbnail.
    pub fn build(ifd0: Ifd, exif: Ifd, gps: Ifd, thumbnail: &[u8]) -> Vec<u8> {
        let (exif, gps) = (entries(&exif), entries(&gps));
        let mut e0 = entries(&ifd0);
        let ifd0_at = 8;
        let exif_at = ifd0_at + ifd_size(&e0) + 2 * 12;
        let gps_at = exif_at + ifd_size(&exif);
        let ifd1_at = gps_at + ifd_size(&gps);
        let data_start = ifd1_at + 2 + 12 * 3 + 4;
        e0.push((0x8769, V::Long(exif_at as u32).encode()));
        e0.push((0x8825, V::Long(gps_at as u32).encode()));
        e0.sort_by_key(|e| e.0);
        let thumb_at = data_start + data_size(&e0) + data_size(&exif) + data_size(&gps);
        let e1 = vec![
            (0x0103, V::Short(6).encode()),
            (0x0201, V::Long(thumb_at as u32).encode()),
            (0x0202, V::Long(thumbnail.len() as u32).encode()),
        ];
        let mut out = b"MM\0\x2a".to_vec();
        out.extend_from_slice(&(ifd0_at as u32).to_be_bytes());
        let (mut data, mut data_at) = (Vec::new(), data_start);
        write(&mut out, &mut data, &mut data_at, e0, ifd1_at as u32);
        write(&mut out, &mut data, &mut data_at, exif, 0);
        write(&mut out, &mut data, &mut data_at, gps, 0);
        write(&mut out, &mut data, &mut data_at, e1, 0);
        out.extend_from_slice(&data);
        assert_eq!(out.len(), thumb_at);
        out.extend_from_slice(thumbnail);
        out
    }

    /// `jpeg` with an APP1 Exif segment holding `tiff` right after SOI.
    pub fn splice(jpeg: &[u8], tiff: &[u8]) -> Vec<u8> {
        let mut seg = b"Exif\0\0".to_vec();
        seg.extend_from_slice(tiff);
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend_from_slice(&((seg.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&seg);
        out.extend_from_slice(&jpeg[2..]);
        out
    }
}

/// A bucket over a temporary directory, for files the tests build.
async fn scratch(files: &[(&str, Vec<u8>)]) -> (tempfile::TempDir, Pixgate) {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let px = Pixgate::start(&format!(
        "[server]\ndefault_bucket = \"scratch\"\n[[buckets]]\nname = \"scratch\"\norigin = \"file://{}\"\n",
        dir.path().display()
    ))
    .await;
    (dir, px)
}

async fn body(px: &Pixgate, key: &str, process: &str) -> Out {
    get(px, key, process).await
}

#[tokio::test]
async fn the_seed_000_example_is_reproduced() {
    use tiff::V;
    // f.jpg of the seed: 424×333, the tags its example lists.
    let corpus_px = corpus_proxy().await;
    let image = body(
        &corpus_px,
        "photos/concert-400x267.jpg",
        "image/resize,m_fixed,w_424,h_333,limit_0",
    )
    .await
    .body;
    let thumb = body(
        &corpus_px,
        "photos/concert-400x267.jpg",
        "image/resize,w_40",
    )
    .await
    .body;
    corpus_px.stop().await;
    let exif = tiff::build(
        vec![
            (0x0112, V::Short(7)),
            (0x011A, V::Rational(&[(96, 1)])),
            (0x011B, V::Rational(&[(96, 1)])),
            (0x0128, V::Short(2)),
            (
                0x0131,
                V::Ascii("Microsoft Windows Photo Viewer 6.1.7600.16385"),
            ),
            (0x0132, V::Ascii("2015:02:11 15:38:27")),
        ],
        vec![],
        vec![
            (0x0000, V::Byte(&[2, 2, 0, 0])),
            (0x0001, V::Ascii("N")),
            (0x0002, V::Rational(&[(0, 1), (0, 1), (0, 1)])),
            (0x0003, V::Ascii("E")),
            (0x0004, V::Rational(&[(0, 1), (0, 1), (0, 1)])),
            (0x0012, V::Ascii("WGS-84")),
        ],
        &thumb,
    );
    let file = tiff::splice(&image, &exif);
    let (_dir, px) = scratch(&[("f.jpg", file.clone())]).await;
    let got = json(&px, "/f.jpg?x-oss-process=image/info").await;

    let seed: Value = serde_json::from_str(
        r#"{
      "Compression": {"value": "6"}, "DateTime": {"value": "2015:02:11 15:38:27"},
      "ExifTag": {"value": "2212"}, "FileSize": {"value": "23471"}, "Format": {"value": "jpg"},
      "GPSLatitude": {"value": "0deg "}, "GPSLatitudeRef": {"value": "North"},
      "GPSLongitude": {"value": "0deg "}, "GPSLongitudeRef": {"value": "East"},
      "GPSMapDatum": {"value": "WGS-84"}, "GPSTag": {"value": "4292"},
      "GPSVersionID": {"value": "2 2 0 0"}, "ImageHeight": {"value": "333"},
      "ImageWidth": {"value": "424"}, "JPEGInterchangeFormat": {"value": "4518"},
      "JPEGInterchangeFormatLength": {"value": "3232"}, "Orientation": {"value": "7"},
      "ResolutionUnit": {"value": "2"},
      "Software": {"value": "Microsoft Windows Photo Viewer 6.1.7600.16385"},
      "XResolution": {"value": "96/1"}, "YResolution": {"value": "96/1"}
    }"#,
    )
    .unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    // SPEC §4 adds FrameCount to every answer (the seed's newer example has
    // it; this older one predates it).
    let mut expected = keys(&seed);
    expected.push("FrameCount".to_owned());
    expected.sort();
    assert_eq!(keys(&got), expected, "the field set");
    // Offsets and sizes belong to the file; everything else matches verbatim.
    let file_specific = [
        "ExifTag",
        "GPSTag",
        "JPEGInterchangeFormat",
        "JPEGInterchangeFormatLength",
        "FileSize",
    ];
    for (k, v) in seed.as_object().unwrap() {
        if !file_specific.contains(&k.as_str()) {
            assert_eq!(&got[k], v, "{k}");
        }
    }
    assert_eq!(oss(&got, "FileSize"), Some(file.len().to_string()));
    assert_eq!(
        oss(&got, "JPEGInterchangeFormatLength"),
        Some(thumb.len().to_string())
    );
    px.stop().await;
}

#[tokio::test]
async fn the_seed_001_qingstor_example_is_reproduced() {
    use tiff::V;
    let corpus_px = corpus_proxy().await;
    let image = body(
        &corpus_px,
        "photos/phone-4032x3024.jpg",
        "image/auto-orient,0/format,jpg/quality,Q_30",
    )
    .await
    .body;
    corpus_px.stop().await;
    let exif = tiff::build(
        vec![
            (0x010F, V::Ascii("Apple")),
            (0x0110, V::Ascii("iPhone SE")),
            (0x0112, V::Short(1)),
            (0x0132, V::Ascii("2018:06:07 18:44:54")),
        ],
        vec![
            (0x9000, V::Undefined(b"0221")),
            (0x920A, V::Rational(&[(83, 20)])),
        ],
        vec![
            (0x0001, V::Ascii("N")),
            (0x0002, V::Rational(&[(40, 1), (0, 1), (5588, 100)])),
            (0x0003, V::Ascii("E")),
            (0x0004, V::Rational(&[(116, 1), (27, 1), (3094, 100)])),
            (0x0005, V::Byte(&[0])),
            (0x0006, V::Rational(&[(7132, 100)])),
        ],
        &[0xFF, 0xD8, 0xFF, 0xD9],
    );
    let (_dir, px) = scratch(&[("myphoto.jpg", tiff::splice(&image, &exif))]).await;
    let got = json(&px, "/myphoto.jpg?image&action=info").await;
    let seed: Value = serde_json::from_str(
        r#"{"width":4032,"height":3024,"orientation":1,"alpha":false,"type":"jpeg","space":"srgb",
        "make":"Apple","model":"iPhone SE","datetime":"2018:06:07 18:44:54",
        "exifversion":"Exif Version 2.21","focallength":"83/20",
        "gpslatituderef":"N","gpslatitude":"40/1 0/1 5588/100",
        "gpslongituderef":"E","gpslongitude":"116/1 27/1 3094/100",
        "gpsaltituderef":"Sea level","gpsaltitude":"7132/100"}"#,
    )
    .unwrap();
    assert_eq!(got, seed);
    px.stop().await;
}

#[tokio::test]
async fn cos_exif_image_info_and_average() {
    let px = corpus_proxy().await;
    // A JPEG with no EXIF block at all.
    let res = client()
        .get(px.url("/formats/hopper.jpg?exif"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "{\"error\" : \"no exif data\"}");
    // A Photoshop export whose EXIF is only bookkeeping (software, artist,
    // version, colour space, pixel size): nothing about a capture.
    let res = client()
        .get(px.url("/exif/no_exif.jpg?exif"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "{\"error\" : \"no exif data\"}");
    // Its tags are still there for OSS info.
    let info = json(&px, "/exif/no_exif.jpg?x-oss-process=image/info").await;
    assert_eq!(info["Artist"]["value"], "CREDIT");

    let exif = json(&px, "/exif/DSCN0010.jpg?exif").await;
    assert_eq!(exif["DateTime"]["val"], "2008:11:01 21:15:07");
    assert_eq!(exif["DateTime"]["type"], 2);
    assert_eq!(exif["XResolution"]["type"], 5);
    assert_eq!(exif["Orientation"]["type"], 3);
    assert!(
        exif["GPSLatitude"]["val"]
            .as_str()
            .unwrap()
            .starts_with("43deg 28'")
    );

    let info = json(&px, "/exif/DSCN0010.jpg?imageInfo").await;
    let file = corpus().join("exif/DSCN0010.jpg");
    let md5 = std::process::Command::new("md5sum")
        .arg(&file)
        .output()
        .unwrap();
    let md5 = String::from_utf8(md5.stdout).unwrap();
    assert_eq!(info["md5"], md5.split_whitespace().next().unwrap());
    assert_eq!(info["format"], "jpeg");
    assert_eq!(info["width"], "640");
    assert_eq!(info["height"], "480");
    assert_eq!(
        info["size"],
        std::fs::metadata(&file).unwrap().len().to_string()
    );
    assert_eq!(info["frame_count"], "1");
    let ave = json(&px, "/exif/DSCN0010.jpg?imageAve").await;
    assert_eq!(info["photo_rgb"], ave["RGB"]);
    let rgb = ave["RGB"].as_str().unwrap();
    assert!(rgb.len() == 8 && rgb.starts_with("0x"), "{rgb}");
    let gif = json(&px, "/formats/rotating-squares.gif?imageInfo").await;
    assert_eq!(gif["frame_count"], "30");
    px.stop().await;
}

#[tokio::test]
async fn damaged_exif_never_fails_the_response() {
    let px = corpus_proxy().await;
    for file in [
        "exif/invalid-exif.jpg",
        "exif/67-0_length_string.jpg",
        "exif/exif-dpi-zerodivision.jpg",
        "exif/28-hex_value.jpg",
    ] {
        for q in [
            "x-oss-process=image/info",
            "image&action=info",
            "exif",
            "imageInfo",
        ] {
            let res = client()
                .get(px.url(&format!("/{file}?{q}")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{file}?{q}");
            let _: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
        }
    }
    px.stop().await;
}

#[tokio::test]
async fn other_formats_and_sizes_past_the_processing_limits() {
    let px = corpus_proxy().await;
    for (file, format, frames) in [
        ("formats/IMG_5195.HEIC", "heic", "1"),
        ("formats/pitm.avif", "avif", "1"),
        ("formats/hopper.png", "png", "1"),
        ("formats/rotating-squares.gif", "gif", "30"),
        ("formats/animated-loop-3.webp", "webp", "10"),
        ("formats/hopper.bmp", "bmp", "1"),
        ("formats/hopper.tif", "tiff", "1"),
    ] {
        let v = json(&px, &format!("/{file}?x-oss-process=image/info")).await;
        assert_eq!(oss(&v, "Format").as_deref(), Some(format), "{file}");
        assert_eq!(oss(&v, "FrameCount").as_deref(), Some(frames), "{file}");
    }
    // PNG: basic properties only.
    let png = json(&px, "/exif/exif.png?x-oss-process=image/info").await;
    assert_eq!(png.as_object().unwrap().len(), 5, "{png}");
    px.stop().await;

    // Processing refuses a 12 MP photo under a 1 MP limit; info still reads it.
    let px = Pixgate::start(&format!(
        "[limits]\nmax_source_pixels = 1000000\n[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        corpus().canonicalize().unwrap().display()
    ))
    .await;
    let out = get(&px, "local/photos/phone-4032x3024.jpg", "image/resize,w_10").await;
    assert_eq!(
        (out.status.as_u16(), out.code().as_str()),
        (400, "ImageTooLarge")
    );
    let v = json(
        &px,
        "/local/photos/phone-4032x3024.jpg?x-oss-process=image/info",
    )
    .await;
    assert_eq!(oss(&v, "ImageWidth").as_deref(), Some("4032"));
    px.stop().await;
}
