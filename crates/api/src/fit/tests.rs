//! The fit's vectors, from every dialect's documents
//! (`../shared/reference/other-cloud-dialects.md` §1.2, §1.3, §2.2, §2.3,
//! §3.2, §5, §6), written as `Fit` values; then its properties over many
//! sizes.

use super::*;
use crate::action::resize::Resize;
use crate::params::Params;

const INNER: BoxKind = BoxKind::Inner;
const OUTER: BoxKind = BoxKind::Outer;
const EXACT: BoxKind = BoxKind::Exact;
const CENTRE_CROP: BoxKind = BoxKind::Crop {
    gravity: Gravity::Center,
    dx: 0,
    dy: 0,
};

fn fit(size: Size, upscale: Upscale) -> Fit {
    Fit {
        size,
        upscale,
        strict_box: false,
    }
}

fn wh(w: Option<u32>, h: Option<u32>, kind: BoxKind, upscale: Upscale) -> Fit {
    fit(
        Size::Box {
            sides: Sides::Wh { w, h },
            kind,
        },
        upscale,
    )
}

fn edges(long: Option<u32>, short: Option<u32>, kind: BoxKind, upscale: Upscale) -> Fit {
    fit(
        Size::Box {
            sides: Sides::LongShort { long, short },
            kind,
        },
        upscale,
    )
}

fn pct(x: u32, y: u32, upscale: Upscale) -> Fit {
    fit(Size::Percent { x, y }, upscale)
}

fn out(f: Fit, src: (u32, u32)) -> (u32, u32) {
    f.layout(src.0, src.1).output(src.0, src.1)
}

fn oss(process: &str) -> Fit {
    let params: Vec<&str> = process.split(',').collect();
    Resize::parse(&Params::parse("resize", &params))
        .unwrap()
        .fit
}

const SRC: (u32, u32) = (1000, 500);
const PORTRAIT: (u32, u32) = (500, 1000);

/// Tencent CI and Qiniu `imageMogr2/thumbnail` (§1.2, §2.2, §5): each form
/// as the fit a parser will build, on a 1000×500 source unless noted.
#[test]
fn thumbnail_forms() {
    use Upscale::*;
    // !50p: both sides × 50 %.
    assert_eq!(out(pct(50, 50, Always), SRC), (500, 250));
    // !50px: width × 50 %, height unchanged.
    assert_eq!(out(pct(50, 100, Always), SRC), (500, 500));
    // !x50p: height × 50 %, width unchanged.
    assert_eq!(out(pct(100, 50, Always), SRC), (1000, 250));
    // !200p enlarges.
    assert_eq!(out(pct(200, 200, Always), SRC), (2000, 1000));
    // 300x / x300: one side, the other proportional; may enlarge (Qiniu's
    // example: 640 wide -> 700 wide).
    assert_eq!(out(wh(Some(300), None, INNER, Always), SRC), (300, 150));
    assert_eq!(out(wh(None, Some(300), INNER, Always), SRC), (600, 300));
    assert_eq!(
        out(wh(Some(700), None, INNER, Always), (640, 480)),
        (700, 525)
    );
    // 300x200: inside the box, by the smaller ratio.
    let inside = |up| wh(Some(300), Some(200), INNER, up);
    assert_eq!(out(inside(Always), SRC), (300, 150));
    assert_eq!(out(inside(Always), (100, 50)), (300, 150));
    // 300x200>: shrink only; if W and H both exceed the image, nothing changes.
    assert_eq!(out(inside(Never), SRC), (300, 150));
    assert_eq!(inside(Never).layout(200, 100), Layout::Unchanged);
    assert_eq!(out(inside(Never), (400, 100)), (300, 75));
    // 300x200<: enlarge only; if the image exceeds the box, nothing changes.
    assert_eq!(inside(Only).layout(1000, 500), Layout::Unchanged);
    assert_eq!(inside(Only).layout(100, 300), Layout::Unchanged);
    assert_eq!(out(inside(Only), (100, 50)), (300, 150));
    assert_eq!(out(inside(Only), (100, 150)), (133, 200));
    // !300x200r: covering the box, at least 300×200.
    let cover = wh(Some(300), Some(200), OUTER, Always);
    assert_eq!(out(cover, SRC), (400, 200));
    assert_eq!(out(cover, (100, 50)), (400, 200));
    assert_eq!(out(cover, PORTRAIT), (300, 600));
    // 300x200!: exactly, aspect ignored.
    let exact = wh(Some(300), Some(200), EXACT, Always);
    assert_eq!(out(exact, SRC), (300, 200));
    assert_eq!(out(exact, (10, 10)), (300, 200));
    // 10000@: at most 10000 pixels, proportional (truncated as ImageMagick's
    // `@` does: 141.4×70.7 -> 141×70); enlarges a smaller image.
    let area = fit(Size::Area(10_000), Always);
    assert_eq!(out(area, SRC), (141, 70));
    assert_eq!(out(area, (50, 50)), (100, 100));
    assert_eq!(out(area, (100, 100)), (100, 100));
    assert_eq!(area.layout(100, 100), Layout::Unchanged);
    // Qiniu's shrink-only area cap (above 25 Mpx): a small image stays.
    assert_eq!(
        fit(Size::Area(25_000_000), Never).layout(1000, 500),
        Layout::Unchanged
    );
    // 300x200/pad/1/color/IzNEM0QzRA: fitted, then centred on #3D3D3D.
    let padded = wh(
        Some(300),
        Some(200),
        BoxKind::Pad {
            color: [0x3D, 0x3D, 0x3D],
            gravity: Gravity::Center,
        },
        Always,
    );
    assert_eq!(
        padded.layout(1000, 500),
        Layout::ScalePad {
            w: 300,
            h: 150,
            canvas_w: 300,
            canvas_h: 200,
            x: 0,
            y: 25,
            color: [0x3D, 0x3D, 0x3D],
        }
    );
}

/// `imageView2` (§1.3, §2.3): Qiniu never enlarges; a missing side is
/// infinite in the max-modes (0, 2) and equal to the given side in the
/// min-modes (1, 3, 4, 5). The worked example is 1000×500 with w 500, h 400.
#[test]
fn image_view2_modes() {
    use Upscale::Never;
    let (w, h) = (Some(500), Some(400));
    // /1: 800×400, then the centre 500×400.
    assert_eq!(
        wh(w, h, CENTRE_CROP, Never).layout(1000, 500),
        Layout::ScaleCrop {
            w: 800,
            h: 400,
            crop: Rect {
                x: 150,
                y: 0,
                w: 500,
                h: 400
            }
        }
    );
    // /2: 500×250.
    assert_eq!(out(wh(w, h, INNER, Never), SRC), (500, 250));
    // /3: 800×400.
    assert_eq!(out(wh(w, h, OUTER, Never), SRC), (800, 400));
    // One side. /1/w/500: a 500 square from the middle.
    assert_eq!(
        wh(w, w, CENTRE_CROP, Never).layout(1000, 500),
        Layout::ScaleCrop {
            w: 1000,
            h: 500,
            crop: Rect {
                x: 250,
                y: 0,
                w: 500,
                h: 500
            }
        }
    );
    // /2/w/500 and /2/h/400: the other side follows.
    assert_eq!(out(wh(w, None, INNER, Never), SRC), (500, 250));
    assert_eq!(out(wh(None, h, INNER, Never), SRC), (800, 400));
    // /3/w/500: a 500 square to cover; the source already does.
    assert_eq!(wh(w, w, OUTER, Never).layout(1000, 500), Layout::Unchanged);
    assert_eq!(out(wh(h, h, OUTER, Never), SRC), (800, 400));
    // Never enlarged: /2/w/2000/h/2000.
    assert_eq!(
        wh(Some(2000), Some(2000), INNER, Never).layout(1000, 500),
        Layout::Unchanged
    );

    let (long, short) = (Some(400), Some(300));
    // /0 (Qiniu): long edge <= 400, short edge <= 300.
    assert_eq!(out(edges(long, short, INNER, Never), SRC), (400, 200));
    assert_eq!(out(edges(long, short, INNER, Never), PORTRAIT), (200, 400));
    assert_eq!(out(edges(long, None, INNER, Never), SRC), (400, 200));
    assert_eq!(out(edges(long, None, INNER, Never), PORTRAIT), (200, 400));
    assert_eq!(out(edges(None, short, INNER, Never), SRC), (600, 300));
    // /4: long edge >= 400, short edge >= 300.
    assert_eq!(out(edges(long, short, OUTER, Never), SRC), (600, 300));
    assert_eq!(out(edges(long, short, OUTER, Never), PORTRAIT), (300, 600));
    // /4/w/400: both edges at least 400.
    assert_eq!(out(edges(long, long, OUTER, Never), SRC), (800, 400));
    // /5: mode 4, then the centre long×short box.
    assert_eq!(
        edges(long, short, CENTRE_CROP, Never).layout(1000, 500),
        Layout::ScaleCrop {
            w: 600,
            h: 300,
            crop: Rect {
                x: 100,
                y: 0,
                w: 400,
                h: 300
            }
        }
    );
    assert_eq!(
        edges(long, short, CENTRE_CROP, Never).layout(500, 1000),
        Layout::ScaleCrop {
            w: 300,
            h: 600,
            crop: Rect {
                x: 0,
                y: 100,
                w: 300,
                h: 400
            }
        }
    );
}

/// QingStor `resize` (§3.2, the proposed mapping: m0 cover-crop, m1 exact,
/// m2 inside; one side proportional in every mode) and the clones' extra
/// per-axis percent (Baidu `wp`/`hp`, §4).
#[test]
fn qingstor_and_clone_forms() {
    use Upscale::Always;
    let (w, h) = (Some(300), Some(400));
    assert_eq!(
        wh(w, h, CENTRE_CROP, Always).layout(1000, 500),
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
    );
    assert_eq!(out(wh(w, h, EXACT, Always), SRC), (300, 400));
    assert_eq!(out(wh(w, h, INNER, Always), SRC), (300, 150));
    assert_eq!(out(wh(w, None, INNER, Always), SRC), (300, 150));
    // Baidu resize,wp_50,hp_200,limit_0.
    assert_eq!(out(pct(50, 200, Always), SRC), (500, 1000));
}

/// Crop gravity and offsets: inward from the named edges, never past the
/// scaled image.
#[test]
fn crop_gravity_and_offsets() {
    let crop = |gravity, dx, dy| {
        wh(
            Some(300),
            Some(400),
            BoxKind::Crop { gravity, dx, dy },
            Upscale::Always,
        )
        .layout(1000, 500)
    };
    let at = |l: Layout| match l {
        Layout::ScaleCrop { crop, .. } => (crop.x, crop.y),
        other => panic!("{other:?}"),
    };
    // Scaled to 800×400: 500 columns to spare, no rows.
    assert_eq!(at(crop(Gravity::Nw, 0, 0)), (0, 0));
    assert_eq!(at(crop(Gravity::Nw, 10, 10)), (10, 0));
    assert_eq!(at(crop(Gravity::North, 10, 0)), (260, 0));
    assert_eq!(at(crop(Gravity::Se, 10, 5)), (490, 0));
    assert_eq!(at(crop(Gravity::East, 0, 0)), (500, 0));
    assert_eq!(at(crop(Gravity::Center, 1000, 0)), (500, 0));
    assert_eq!(at(crop(Gravity::Se, 1000, 0)), (0, 0));
}

/// The same-intent examples: the OSS forms and the other dialects'
/// give the same layout on every source.
#[test]
fn oss_forms_equal_their_counterparts() {
    use Upscale::*;
    let pairs = [
        // resize,m_fill,w_200,h_200 = imageView2/1/w/200/h/200.
        (
            oss("m_fill,w_200,h_200"),
            wh(Some(200), Some(200), CENTRE_CROP, Never),
        ),
        // m_lfit with limit_1 = WxH>.
        (
            oss("m_lfit,w_300,h_200"),
            wh(Some(300), Some(200), INNER, Never),
        ),
        // m_mfit,limit_0 = !WxHr.
        (
            oss("m_mfit,w_300,h_200,limit_0"),
            wh(Some(300), Some(200), OUTER, Always),
        ),
        // m_fixed,limit_0 = WxH!.
        (
            oss("m_fixed,w_300,h_200,limit_0"),
            wh(Some(300), Some(200), EXACT, Always),
        ),
        // w_300,limit_0 = 300x.
        (oss("w_300,limit_0"), wh(Some(300), None, INNER, Always)),
        // p_50 = !50p.
        (oss("p_50"), pct(50, 50, Never)),
        // m_lfit,l_400,s_300 = imageView2/0/w/400/h/300.
        (
            oss("m_lfit,l_400,s_300"),
            edges(Some(400), Some(300), INNER, Never),
        ),
        // m_fill,l_400,s_300 = imageView2/5/w/400/h/300.
        (
            oss("m_fill,l_400,s_300"),
            edges(Some(400), Some(300), CENTRE_CROP, Never),
        ),
    ];
    for (a, b) in pairs {
        for src in sizes().take(400) {
            assert_eq!(
                a.layout(src.0, src.1),
                b.layout(src.0, src.1),
                "{a:?} {src:?}"
            );
        }
    }
}

/// What each OSS form translates into.
#[test]
fn oss_translation() {
    use Upscale::*;
    assert_eq!(
        oss("w_100,h_50"),
        Fit {
            strict_box: true,
            ..wh(Some(100), Some(50), INNER, Never)
        }
    );
    // fill, pad and fixed with one side: a square.
    assert_eq!(
        oss("m_fixed,h_100,limit_0"),
        wh(Some(100), Some(100), EXACT, Always)
    );
    assert_eq!(
        oss("m_pad,l_100,color_FF0000"),
        wh(
            Some(100),
            Some(100),
            BoxKind::Pad {
                color: [255, 0, 0],
                gravity: Gravity::Center
            },
            Never
        )
    );
    // lfit and mfit with one side: the other follows.
    assert_eq!(oss("m_mfit,s_100"), edges(None, Some(100), OUTER, Never));
    // p only without w, h, l, s.
    assert_eq!(oss("p_150,limit_0"), pct(150, 150, Always));
    assert_eq!(oss("p_150,w_10"), wh(Some(10), None, INNER, Never));
}

/// A small deterministic generator: source sizes from 1 to 30000 px with
/// extreme aspects among them.
fn sizes() -> impl Iterator<Item = (u32, u32)> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let fixed = [(1, 1), (1, 30000), (30000, 1), (2, 3), (7, 3), (4032, 3024)];
    fixed.into_iter().chain(std::iter::from_fn(move || {
        let side = |r: u64| match r % 4 {
            0 => 1 + (r >> 8) % 16,
            1 => 1 + (r >> 8) % 30000,
            _ => 1 + (r >> 8) % 5000,
        } as u32;
        Some((side(next()), side(next())))
    }))
}

fn upscales() -> [Upscale; 3] {
    [Upscale::Never, Upscale::Only, Upscale::Always]
}

/// Aspect kept within rounding: each side off by at most `px` pixels from
/// the exact proportional size, unless clamped to 1. With the exact sides
/// `w* >= w - px` and `h* >= h - px`, the ratio of aspects lies within
/// `[(1 - a) / (1 + b), (1 + a) / (1 - b)]`, `a = px / (w - px)`,
/// `b = px / (h - px)`.
fn keeps_aspect(src: (u32, u32), got: (u32, u32), px: f64) -> bool {
    let (w, h) = (f64::from(got.0), f64::from(got.1));
    if w <= px.max(1.0) || h <= px.max(1.0) {
        return true;
    }
    let (a, b) = (px / (w - px), px / (h - px));
    let ratio = (w / h) / (f64::from(src.0) / f64::from(src.1));
    let eps = 1e-9;
    ratio >= (1.0 - a) / (1.0 + b) - eps && ratio <= (1.0 + a) / (1.0 - b).max(eps) + eps
}

/// Checks the upscale rule on the scale: Never never enlarges, Only never
/// shrinks.
fn obeys(up: Upscale, src: (u32, u32), scaled: (u32, u32)) -> bool {
    match up {
        Upscale::Never => scaled.0 <= src.0 && scaled.1 <= src.1,
        Upscale::Only => scaled.0 >= src.0 && scaled.1 >= src.1,
        Upscale::Always => true,
    }
}

#[test]
fn box_properties() {
    let boxes = [1u32, 2, 50, 333, 1000, 16384];
    let kinds = [
        INNER,
        OUTER,
        EXACT,
        CENTRE_CROP,
        BoxKind::Crop {
            gravity: Gravity::Se,
            dx: 7,
            dy: 3,
        },
        BoxKind::Pad {
            color: [0, 0, 0],
            gravity: Gravity::Sw,
        },
    ];
    let mut checked = 0;
    for src in sizes().take(300) {
        for &bw in &boxes {
            for bh in [None, Some(1u32), Some(77), Some(bw), Some(4000)] {
                for bw in [Some(bw), None] {
                    for kind in kinds {
                        for up in upscales() {
                            for f in [wh(bw, bh, kind, up), edges(bw, bh, kind, up)] {
                                check_box(f, kind, up, src);
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 100_000, "{checked}");
}

fn check_box(f: Fit, kind: BoxKind, up: Upscale, src: (u32, u32)) {
    let Size::Box { sides, .. } = f.size else {
        unreachable!()
    };
    let (bw, bh) = sides.resolve(src.0, src.1);
    let l = f.layout(src.0, src.1);
    let (w, h) = l.output(src.0, src.1);
    let scaled = l.scaled(src.0, src.1);
    let ctx = format!("{f:?} on {src:?}: {l:?}");
    assert!(w >= 1 && h >= 1 && scaled.0 >= 1 && scaled.1 >= 1, "{ctx}");
    assert!(obeys(up, src, scaled), "{ctx}");
    match l {
        Layout::ScaleCrop { crop, .. } => {
            assert!(
                crop.x + crop.w <= scaled.0 && crop.y + crop.h <= scaled.1,
                "{ctx}"
            )
        }
        Layout::ScalePad {
            canvas_w,
            canvas_h,
            x,
            y,
            ..
        } => assert!(
            x + scaled.0 <= canvas_w && y + scaled.1 <= canvas_h,
            "{ctx}"
        ),
        _ => {}
    }
    if kind != EXACT {
        assert!(keeps_aspect(src, scaled, 0.5), "{ctx}");
    }
    if l == Layout::Unchanged {
        return;
    }
    // The scale happened: the box is met the way the kind says.
    let within = |got: u32, b: Option<u32>| b.is_none_or(|b| got <= b);
    let covers = |got: u32, b: Option<u32>| b.is_none_or(|b| got >= b);
    let equals = |got: u32, b: Option<u32>, src: u32| got == b.unwrap_or(src);
    match kind {
        BoxKind::Inner => assert!(within(w, bw) && within(h, bh), "{ctx}"),
        BoxKind::Outer => assert!(covers(w, bw) && covers(h, bh), "{ctx}"),
        BoxKind::Exact => assert!(equals(w, bw, src.0) && equals(h, bh, src.1), "{ctx}"),
        BoxKind::Crop { .. } => {
            assert!(covers(scaled.0, bw) && covers(scaled.1, bh), "{ctx}");
            // Cut to the box exactly.
            assert!(equals(w, bw, scaled.0) && equals(h, bh, scaled.1), "{ctx}");
        }
        BoxKind::Pad { .. } => {
            assert!(within(scaled.0, bw) && within(scaled.1, bh), "{ctx}");
            // A canvas the size of the box.
            assert!(equals(w, bw, scaled.0) && equals(h, bh, scaled.1), "{ctx}");
        }
    }
}

#[test]
fn percent_and_area_properties() {
    let mut checked = 0;
    for src in sizes().take(2000) {
        for up in upscales() {
            for p in [1u32, 33, 50, 99, 100, 101, 250, 1000] {
                for (x, y) in [(p, p), (p, 100), (100, p), (p, 37)] {
                    let f = pct(x, y, up);
                    let l = f.layout(src.0, src.1);
                    let got = l.output(src.0, src.1);
                    assert!(got.0 >= 1 && got.1 >= 1);
                    assert!(obeys(up, src, got), "{f:?} {src:?} -> {got:?}");
                    if x == y {
                        assert!(keeps_aspect(src, got, 0.5), "{f:?} {src:?} -> {got:?}");
                    }
                    checked += 1;
                }
            }
            for area in [1u64, 2, 100, 10_000, 1_000_000, 250_000_000] {
                let f = fit(Size::Area(area), up);
                let got = f.layout(src.0, src.1).output(src.0, src.1);
                let ctx = format!("{f:?} {src:?} -> {got:?}");
                assert!(got.0 >= 1 && got.1 >= 1, "{ctx}");
                assert!(obeys(up, src, got), "{ctx}");
                // Within the cap whenever the scale happens.
                if got != src {
                    assert!(u64::from(got.0) * u64::from(got.1) <= area, "{ctx}");
                }
                // Truncation: each side within a pixel.
                assert!(keeps_aspect(src, got, 1.0), "{ctx}");
                checked += 1;
            }
        }
    }
    assert!(checked > 100_000, "{checked}");
}
