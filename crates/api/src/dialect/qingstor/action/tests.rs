use super::*;
use crate::PlanErrorKind;
use crate::action::smart_crop::SmartCrop;
use crate::fit::Layout;
use crate::geometry::Rect;

const INFO: MetadataKind = super::super::wire::INFO;

fn plan(action: &str) -> Plan {
    parse(action, INFO).unwrap_or_else(|e| panic!("{action}: {e}"))
}

fn err(action: &str) -> PlanError {
    match parse(action, INFO) {
        Ok(p) => panic!("{action} parsed: {p:?}"),
        Err(e) => e,
    }
}

/// The size one resize step gives a `w`×`h` source.
fn resized(action: &str, src: (u32, u32)) -> (u32, u32) {
    match plan(action).steps.as_slice() {
        [Step::Resize(r)] => r.layout(src.0, src.1).output(src.0, src.1),
        other => panic!("{action}: {other:?}"),
    }
}

fn crop_rect(action: &str, src: (u32, u32)) -> Result<Rect, PlanError> {
    match plan(action).steps.as_slice() {
        [Step::Crop(c)] => c.rect(src.0, src.1),
        other => panic!("{action}: {other:?}"),
    }
}

fn watermark(action: &str) -> Watermark {
    match plan(action).steps.as_slice() {
        [Step::Watermark(w)] => (**w).clone(),
        other => panic!("{action}: {other:?}"),
    }
}

#[test]
fn the_documents_pipeline_runs_in_order() {
    let p = plan("resize:w_300,h_400|rotate:a_90");
    assert_eq!(p.steps.len(), 2);
    assert_eq!(p.steps[1], Step::Rotate(Rotate { degrees: 90 }));
    assert_eq!(p.policy, Policy::DEFAULT);
    assert_eq!(p.deliver, Deliver::Image);
}

#[test]
fn resize_modes() {
    // m0 (default): cover and cut from the centre, exactly w×h.
    assert_eq!(resized("resize:w_300,h_400", (1000, 500)), (300, 400));
    match plan("resize:w_300,h_400,m_0").steps[0] {
        Step::Resize(r) => assert_eq!(
            r.layout(1000, 500),
            Layout::ScaleCrop {
                w: 800,
                h: 400,
                crop: Rect {
                    x: 250,
                    y: 0,
                    w: 300,
                    h: 400
                }
            }
        ),
        ref other => panic!("{other:?}"),
    }
    // m1: exactly w×h, aspect ignored; m2: inside the box.
    assert_eq!(resized("resize:w_300,h_400,m_1", (1000, 500)), (300, 400));
    assert_eq!(resized("resize:w_300,h_400,m_2", (1000, 500)), (300, 150));
    // One side: proportional in every mode, enlarging if asked.
    for m in 0..=2 {
        assert_eq!(
            resized(&format!("resize:w_500,m_{m}"), (1000, 500)),
            (500, 250)
        );
        assert_eq!(
            resized(&format!("resize:h_1000,m_{m}"), (1000, 500)),
            (2000, 1000)
        );
    }
    // A zero side is "not given", as the SDKs omit it.
    assert_eq!(resized("resize:w_500,h_0", (1000, 500)), (500, 250));
}

#[test]
fn crop_gravities_and_start_points() {
    let src = (400, 267);
    // g_0 (the default) is the centre.
    let centre = Rect {
        x: 150,
        y: 83,
        w: 100,
        h: 100,
    };
    assert_eq!(crop_rect("crop:w_100,h_100", src), Ok(centre));
    assert_eq!(crop_rect("crop:w_100,h_100,g_0", src), Ok(centre));
    // 9 (auto) is the attention crop, chosen from the pixels.
    assert_eq!(
        plan("crop:w_100,h_100,g_9").steps,
        vec![Step::SmartCrop(SmartCrop { w: 100, h: 100 })]
    );
    for (g, x, y) in [
        (1, 150, 0),
        (2, 300, 83),
        (3, 150, 167),
        (4, 0, 83),
        (5, 0, 0),
        (6, 300, 0),
        (7, 0, 167),
        (8, 300, 167),
    ] {
        let r = crop_rect(&format!("crop:w_100,h_100,g_{g}"), src).unwrap();
        assert_eq!((r.x, r.y, r.w, r.h), (x, y, 100, 100), "g_{g}");
    }
    // l, t: from there to the end, or w×h from there.
    assert_eq!(
        crop_rect("crop:l_100,t_50", src),
        Ok(Rect {
            x: 100,
            y: 50,
            w: 300,
            h: 217
        })
    );
    assert_eq!(
        crop_rect("crop:w_300,h_400,l_0,t_0", src),
        Ok(Rect {
            x: 0,
            y: 0,
            w: 300,
            h: 267
        })
    );
    // No size: the whole image.
    assert_eq!(crop_rect("crop", src).unwrap().w, 400);
    // A start point past the image is refused when the image is known.
    assert!(crop_rect("crop:l_400", src).is_err());
}

#[test]
fn text_watermark_defaults_and_conversions() {
    let w = watermark("watermark:t_5rC05Y2w5paH5a2X,p_0.5");
    let t = w.text.as_ref().unwrap();
    assert_eq!(t.text, "水印文字");
    // 150 twips = 7.5 pt → 8 px; black.
    assert_eq!((t.size, t.color), (8, [0, 0, 0]));
    assert_eq!(w.opacity, 50);
    assert!(w.fill && w.image.is_none());
    let w = watermark("watermark:t_5rC05Y2w5paH5a2X");
    assert_eq!(w.opacity, 25);
    // d_400 = 20 pt; c = "#FF0000" in either alphabet, padded or not.
    for c in ["I0ZGMDAwMA", "I0ZGMDAwMA==", "I0ZGMDAwMA="] {
        let w = watermark(&format!("watermark:t_SGVsbG8,d_400,c_{c}"));
        let t = w.text.unwrap();
        assert_eq!((t.size, t.color), (20, [255, 0, 0]), "{c}");
    }
    // Standard-alphabet base64 of "?>?" ("Pz4/") and its URL-safe twin.
    for t in ["Pz4/", "Pz4_"] {
        assert_eq!(
            watermark(&format!("watermark:t_{t}")).text.unwrap().text,
            "?>?"
        );
    }
    // Opacity above 1 is clamped; tiny ones keep 1 %.
    assert_eq!(watermark("watermark:t_SGVsbG8,p_2").opacity, 100);
    assert_eq!(watermark("watermark:t_SGVsbG8,p_0.001").opacity, 1);
}

#[test]
fn image_watermark_reads_the_key_from_the_url() {
    // The documents' example: https://pek3a.qingstor.com/img-doc-eg/qincloud.png
    let w = watermark(
        "watermark_image:u_aHR0cHM6Ly9wZWszYS5xaW5nc3Rvci5jb20vaW1nLWRvYy1lZy9xaW5jbG91ZC5wbmc,l_10,t_10,p_2",
    );
    let i = w.image.as_ref().unwrap();
    assert_eq!(i.key, "qincloud.png");
    assert_eq!((w.gravity, w.x, w.y, w.opacity), (Gravity::Nw, 10, 10, 100));
    assert!(!w.fill);
    let key = |url: &str| mark_key(url).map_err(|e| e.kind);
    assert_eq!(
        key("https://mybucket.pek3a.qingstor.com/logos/a%20b.png?x=1"),
        Ok("logos/a b.png".to_owned())
    );
    assert_eq!(key("http://127.0.0.1:8080/wm.png"), Ok("wm.png".to_owned()));
    assert_eq!(key("wm.png"), Ok("wm.png".to_owned()));
    for bad in [
        "https://pek3a.qingstor.com/bucket/",
        "https://h/../secret",
        "/etc/passwd",
        "",
    ] {
        assert_eq!(key(bad), Err(PlanErrorKind::Watermark), "{bad}");
    }
    assert_eq!(watermark("watermark_image:u_d20ucG5n").opacity, 25);
}

#[test]
fn format_and_info() {
    for (t, f) in [
        ("jpeg", Format::Jpg),
        ("png", Format::Png),
        ("webp", Format::Webp),
        ("tiff", Format::Tiff),
    ] {
        assert_eq!(plan(&format!("format:t_{t}")).output.format, Some(f));
    }
    assert_eq!(plan("info").deliver, Deliver::Metadata(INFO));
}

#[test]
fn bad_parameters_are_invalid_and_named() {
    for (action, needle) in [
        ("crop:w_100,g_1,l_10", "not both"),
        ("crop:g_10", "'g'"),
        ("crop:w_abc", "'w'"),
        ("crop:x_1", "'x'"),
        ("resize:m_1", "w or h"),
        ("resize:w_100,m_3", "'m'"),
        ("resize:w_-5", "'w'"),
        ("resize:w_99999", "'w'"),
        ("resize:w_100,w_200", "twice"),
        ("resize:w100", "key_value"),
        ("rotate", "needs a"),
        ("rotate:a_45", "'a'"),
        ("format:t_gif", "'t'"),
        ("format", "needs t"),
        ("watermark", "needs t"),
        ("watermark:t_!!", "'t'"),
        ("watermark:t_SGVsbG8,p_0", "'p'"),
        ("watermark:t_SGVsbG8,p_abc", "'p'"),
        ("watermark:t_SGVsbG8,d_0", "'d'"),
        ("watermark:t_SGVsbG8,c_SGVsbG8", "'c'"),
        ("watermark_image", "needs u"),
        ("watermark_image:u_d20ucG5n,l_-1", "'l'"),
        ("info:w_1", "no parameters"),
        ("info|rotate:a_90", "info"),
        ("slim", "'slim'"),
        ("resize:w_1||rotate:a_90", "no name"),
    ] {
        let e = err(action);
        assert!(
            matches!(
                e.kind,
                PlanErrorKind::InvalidArgument | PlanErrorKind::MissingArgument
            ),
            "{action}: {e:?}"
        );
        assert!(e.message.contains(needle), "{action}: {}", e.message);
    }
    // `save` is claimed as a write before the action is parsed as a read
    // (`save.rs`); reaching the parser, it is an error.
    assert_eq!(err("save:b_x,k_y").kind, PlanErrorKind::InvalidArgument);
    assert_eq!(
        err("resize:w_1|save:b_x,k_y").kind,
        PlanErrorKind::InvalidArgument
    );
    let four = ["watermark_image:u_d20ucG5n"; 4].join("|");
    assert!(err(&four).message.contains("at most 3"));
}

#[test]
fn limits_on_length_and_operations() {
    assert!(parse(&["rotate:a_90"; 32].join("|"), INFO).is_ok());
    assert!(parse(&["rotate:a_90"; 33].join("|"), INFO).is_err());
    assert!(parse(&"x".repeat(5000), INFO).is_err());
}
