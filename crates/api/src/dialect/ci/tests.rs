//! The grammar's parser: forms, ranges, pipelines and errors.

use super::*;
use crate::PlanErrorKind;
use crate::action::quality::Quality;
use crate::fit::{BoxKind, Fit, Sides, Size, Upscale};
use crate::geometry::Rect;
use crate::plan::{SizeLimit, Step};

const T: Flavour = Flavour::Tencent;
const Q: Flavour = Flavour::Qiniu;

fn plan(spec: &str, f: Flavour) -> Plan {
    parse(spec, f).unwrap_or_else(|e| panic!("{spec}: {e}"))
}

fn err(spec: &str, f: Flavour) -> PlanError {
    parse(spec, f).expect_err(spec)
}

fn fit(spec: &str, f: Flavour) -> Fit {
    match plan(spec, f).steps.as_slice() {
        [Step::Resize(r)] => r.fit,
        other => panic!("{spec}: {other:?}"),
    }
}

/// The output size of the one resize `spec` names, on `src`.
fn out(spec: &str, f: Flavour, src: (u32, u32)) -> (u32, u32) {
    fit(spec, f).layout(src.0, src.1).output(src.0, src.1)
}

const SRC: (u32, u32) = (1000, 500);

#[test]
fn every_thumbnail_form() {
    let m = |t: &str| format!("imageMogr2/thumbnail/{t}");
    for (form, want) in [
        ("!50p", (500, 250)),
        ("!50px", (500, 500)),
        ("!x50p", (1000, 250)),
        ("!200p", (2000, 1000)),
        ("300x", (300, 150)),
        ("x300", (600, 300)),
        ("300x200", (300, 150)),
        ("300x200>", (300, 150)),
        ("2000x2000>", (1000, 500)),
        ("2000x2000<", (2000, 1000)),
        ("300x200<", (1000, 500)),
        ("!300x200r", (400, 200)),
        ("300x200!", (300, 200)),
        ("10000@", (141, 70)),
    ] {
        assert_eq!(out(&m(form), T, SRC), want, "{form}");
        assert_eq!(out(&m(form), Q, SRC), want, "{form} (Qiniu)");
    }
    assert_eq!(
        fit(&m("300x200>"), T).upscale,
        Upscale::Never,
        "shrink-only"
    );
    assert_eq!(fit(&m("300x200<"), T).upscale, Upscale::Only);
    // Qiniu: a side above 10000 never enlarges.
    assert_eq!(fit(&m("20000x"), Q).upscale, Upscale::Never);
    assert_eq!(fit(&m("20000x"), T).upscale, Upscale::Always);
    assert_eq!(err(&m(""), T).kind, PlanErrorKind::MissingArgument);
    for bad in [
        "abc",
        "!0p",
        "!1001p",
        "x",
        "300x200r",
        "!300y200r",
        "0x0",
        "-5x",
        "@",
    ] {
        let e = err(&m(bad), T);
        assert_eq!(e.kind, PlanErrorKind::InvalidArgument, "{bad}: {e:?}");
    }
}

#[test]
fn pad_and_color_make_a_padded_box() {
    let f = fit("imageMogr2/thumbnail/300x200/pad/1/color/IzNEM0QzRA", T);
    assert_eq!(
        f.size,
        Size::Box {
            sides: Sides::Wh {
                w: Some(300),
                h: Some(200)
            },
            kind: BoxKind::Pad {
                color: [0x3D, 0x3D, 0x3D],
                gravity: crate::geometry::Gravity::Center
            }
        }
    );
    // Padding survives the query parser's split at '=' (padded base64).
    let q = Query::parse("imageMogr2/thumbnail/300x200/pad/1/color/IzAwMDBGRg==");
    let s = spec(&q).unwrap();
    assert!(s.ends_with("IzAwMDBGRg=="), "{s}");
    assert!(parse(&s, T).is_ok());
    assert!(parse("imageMogr2/pad/1", T).is_err());
    assert!(parse("imageMogr2/thumbnail/!50p/pad/1", T).is_err());
    assert!(parse("imageMogr2/thumbnail/300x200/pad/1/color/bm90YWNvbG91cg", T).is_err());
}

fn crop_rect(spec: &str, f: Flavour, src: (u32, u32)) -> Rect {
    match plan(spec, f).steps.as_slice() {
        [Step::Crop(c)] => c.rect(src.0, src.1).unwrap(),
        other => panic!("{spec}: {other:?}"),
    }
}

#[test]
fn crops_and_cuts() {
    let big = (1920, 1080);
    // Qiniu's worked examples.
    assert_eq!(
        crop_rect("imageMogr2/crop/!300x400-10a10", Q, big),
        Rect {
            x: 0,
            y: 10,
            w: 290,
            h: 400
        }
    );
    assert_eq!(
        crop_rect("imageMogr2/crop/!300x400a10a10", Q, big),
        Rect {
            x: 10,
            y: 10,
            w: 300,
            h: 400
        }
    );
    // NorthWest unless told; the gravity may come before or after.
    assert_eq!(
        crop_rect("imageMogr2/crop/300x400", T, big),
        Rect {
            x: 0,
            y: 0,
            w: 300,
            h: 400
        }
    );
    assert_eq!(
        crop_rect("imageMogr2/crop/300x400/gravity/center", T, big),
        crop_rect("imageMogr2/gravity/Center/crop/300x400", T, big)
    );
    assert_eq!(
        crop_rect("imageMogr2/gravity/southeast/crop/300x", T, big),
        Rect {
            x: 1620,
            y: 0,
            w: 300,
            h: 1080
        }
    );
    // Tencent: the centre ignores the offsets.
    assert_eq!(
        crop_rect("imageMogr2/gravity/center/crop/!300x400a10a10", T, big),
        Rect {
            x: 810,
            y: 340,
            w: 300,
            h: 400
        }
    );
    assert_eq!(
        crop_rect("imageMogr2/cut/600x600x100x10", T, big),
        Rect {
            x: 100,
            y: 10,
            w: 600,
            h: 600
        }
    );
    for bad in [
        "imageMogr2/crop/!300x400a10",
        "imageMogr2/crop/!300x400-300a0",
        "imageMogr2/crop/axb",
        "imageMogr2/cut/600x600x100",
        "imageMogr2/gravity/middle/crop/300x300",
    ] {
        assert_eq!(err(bad, T).kind, PlanErrorKind::InvalidArgument, "{bad}");
    }
}

#[test]
fn ranges_differ_by_cloud() {
    assert_eq!(
        plan("imageMogr2/rotate/0", T).steps,
        vec![Step::Rotate(crate::action::rotate::Rotate { degrees: 0 })]
    );
    assert!(parse("imageMogr2/rotate/0", Q).is_err());
    assert!(parse("imageMogr2/rotate/361", T).is_err());
    assert!(parse("imageMogr2/rotate/360", Q).is_ok());
    // Tencent-only parameters are unknown to Qiniu.
    for p in [
        "iradius/10",
        "flip/vertical",
        "bright/10",
        "rquality/50",
        "cut/1x1x0x0",
    ] {
        assert!(parse(&format!("imageMogr2/{p}"), T).is_ok(), "{p}");
        let e = err(&format!("imageMogr2/{p}"), Q);
        assert!(e.message.contains(p.split('/').next().unwrap()), "{e:?}");
    }
    // imageView2 mode 0 is Qiniu's only.
    assert!(parse("imageView2/0/w/100", Q).is_ok());
    assert_eq!(
        err("imageView2/0/w/100", T).kind,
        PlanErrorKind::InvalidArgument
    );
}

#[test]
fn output_settings() {
    let p = plan(
        "imageMogr2/format/yjpeg/quality/80!/interlace/1/cgif/1/size-limit/15k!/strip",
        T,
    );
    assert_eq!(p.output.format, Some(Format::Jpg));
    assert_eq!(p.output.quality, Some(Quality::Forced(80)));
    assert_eq!(p.output.interlace, Some(true));
    assert_eq!(p.output.max_frames, Some(30));
    assert_eq!(
        p.output.size_limit,
        Some(SizeLimit {
            bytes: 15 * 1024,
            or_source: true
        })
    );
    assert!(p.steps.is_empty());
    assert_eq!(
        plan("imageMogr2/quality/80", T).output.quality,
        Some(Quality::Absolute(80))
    );
    assert_eq!(
        plan("imageMogr2/rquality/60", T).output.quality,
        Some(Quality::Relative(60))
    );
    assert_eq!(
        plan("imageMogr2/lquality/60", T).output.quality,
        Some(Quality::AtLeast(60))
    );
    assert_eq!(
        err("imageMogr2/format/tpg", T).kind,
        PlanErrorKind::NotImplemented
    );
    assert!(parse("imageMogr2/format/tiff", T).is_err());
    assert!(parse("imageMogr2/quality/101", T).is_err());
    assert!(parse("imageMogr2/size-limit/abc", T).is_err());
    // The policies: Tencent keeps the source's quality, Qiniu 75.
    assert_eq!(plan("imageMogr2/strip", T).policy.default_quality, 100);
    assert_eq!(plan("imageMogr2/strip", Q).policy.default_quality, 75);
    assert!(!plan("imageMogr2/strip", T).policy.gif_only_from_gif);
}

#[test]
fn effects() {
    let p = plan(
        "imageMogr2/blur/8x5/sharpen/70/bright/-20/contrast/30/grayscale/1/flip/horizontal",
        T,
    );
    assert_eq!(
        p.steps,
        vec![
            Step::Blur(crate::action::blur::Blur { r: 8, s: 5 }),
            Step::Sharpen(122),
            Step::Bright(-20),
            Step::Contrast(30),
            Step::Grayscale,
            Step::Flip(crate::action::flip::Flip::Horizontal),
        ]
    );
    // The sharpen scale is monotonic and spans the neutral one.
    assert_eq!(mogr::sharpen_amount(10), 50);
    assert_eq!(mogr::sharpen_amount(300), 399);
    assert!((10..300).all(|n| mogr::sharpen_amount(n) <= mogr::sharpen_amount(n + 1)));
    for bad in [
        "imageMogr2/sharpen/5",
        "imageMogr2/bright/101",
        "imageMogr2/blur/51x5",
        "imageMogr2/blur/5x0",
        "imageMogr2/flip/diagonal",
        "imageMogr2/grayscale/2",
    ] {
        assert!(parse(bad, T).is_err(), "{bad}");
    }
}

#[test]
fn image_view2_modes_on_the_worked_example() {
    let v = |m: &str| format!("imageView2/{m}");
    assert_eq!(out(&v("1/w/500/h/400"), T, SRC), (500, 400));
    assert_eq!(out(&v("2/w/500/h/400"), T, SRC), (500, 250));
    assert_eq!(out(&v("3/w/500/h/400"), T, SRC), (800, 400));
    assert_eq!(out(&v("4/w/400/h/300"), T, SRC), (600, 300));
    assert_eq!(out(&v("5/w/400/h/300"), T, SRC), (400, 300));
    assert_eq!(out(&v("0/w/400/h/300"), Q, SRC), (400, 200));
    assert_eq!(out(&v("1/w/500"), T, SRC), (500, 500));
    assert_eq!(out(&v("2/h/400"), T, SRC), (800, 400));
    // Qiniu never enlarges; Tencent does.
    assert_eq!(out(&v("2/w/2000"), Q, SRC), (1000, 500));
    assert_eq!(out(&v("2/w/2000"), T, SRC), (2000, 1000));
    let p = plan(&v("2/w/100/format/webp/q/70!/interlace/1"), Q);
    assert_eq!(p.output.format, Some(Format::Webp));
    assert_eq!(p.output.quality, Some(Quality::Forced(70)));
    assert_eq!(p.auto_orient, Some(true));
    assert_eq!(plan(&v("2/w/100"), T).auto_orient, Some(false));
    for bad in ["6/w/1", "x/w/1", "2", "2/w/0", "2/w/abc", "2/size/3"] {
        assert!(parse(&v(bad), T).is_err(), "{bad}");
    }
    assert!(parse(&v("2/w/100/rq/50"), Q).is_err());
}

#[test]
fn pipelines_run_in_order_and_are_capped() {
    let p = plan(
        "imageMogr2/thumbnail/!200x200r/gravity/center/crop/200x200|imageMogr2/rotate/90",
        T,
    );
    assert_eq!(p.steps.len(), 3);
    assert!(matches!(p.steps[2], Step::Rotate(_)));
    let ten = ["imageMogr2/rotate/90"; 10].join("|");
    assert!(parse(&ten, T).is_ok());
    let eleven = ["imageMogr2/rotate/90"; 11].join("|");
    assert!(err(&eleven, T).message.contains("10"));
    // Every step repeats its module.
    assert!(
        err("imageMogr2/thumbnail/300x|crop/300x300", T)
            .message
            .contains("crop/300x300")
    );
    assert!(parse("imageMogr2/thumbnail/300x|imageInfo", T).is_err());
}

#[test]
fn unknown_parameters_are_named_and_ignore_error_forgives() {
    let e = err("imageMogr2/thumbnail/300x/slim/1", T);
    assert_eq!(e.kind, PlanErrorKind::InvalidArgument);
    assert!(e.message.contains("'slim'"), "{e:?}");
    assert_eq!(
        operation("imageMogr2/thumbnail/abc/ignore-error/1", T),
        Operation::Original
    );
    assert!(matches!(
        operation("imageMogr2/thumbnail/abc", T),
        Operation::Process { plan: Err(_), .. }
    ));
    let Operation::Process { plan: Ok(p), .. } =
        operation("imageMogr2/thumbnail/300x/ignore-error/1", T)
    else {
        panic!()
    };
    assert!(p.ignore_error);
}

#[test]
fn the_spec_is_found_among_other_parameters() {
    let q = Query::parse(
        "q-sign-algorithm=sha1&q-ak=AK&q-signature=abc&imageMogr2/thumbnail/!50p%7CimageMogr2/rotate/90",
    );
    assert_eq!(
        spec(&q).as_deref(),
        Some("imageMogr2/thumbnail/!50p|imageMogr2/rotate/90")
    );
    assert_eq!(spec(&Query::parse("exif")), None);
    // The SDKs' form: the rule as a key with an empty value.
    assert_eq!(
        spec(&Query::parse(
            "q-ak=A&imageMogr2%2Fthumbnail%2F%2150p%2Fformat%2Fpng="
        ))
        .as_deref(),
        Some("imageMogr2/thumbnail/!50p/format/png")
    );
    assert_eq!(
        spec(&Query::parse("imageMogr2x=1")).as_deref(),
        Some("imageMogr2x=1")
    );
    assert!(parse("imageMogr2x=1", T).is_err());
    assert_eq!(spec(&Query::parse("watermarked=1")), None);
}
