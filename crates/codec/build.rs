//! Links Debian's libavif for AVIF image sequences through a small C shim
//! (csrc/avif_seq.c), so no libavif struct layout is mirrored in Rust; and
//! Debian's libtiff (libtiff-dev, 4.5) for the TIFF decoder (src/tiff.rs, a
//! small hand-written FFI module: no maintained `-sys` crate links the
//! system library with the 4.5 open-options API it uses).

fn main() {
    println!("cargo:rerun-if-changed=csrc/avif_seq.c");
    let avif = pkg_config::Config::new()
        .atleast_version("0.9")
        .probe("libavif")
        .expect("libavif (Debian: libavif-dev) is needed; scripts/install-deps installs it");
    let mut build = cc::Build::new();
    build
        .file("csrc/avif_seq.c")
        .warnings(true)
        .extra_warnings(true);
    for dir in &avif.include_paths {
        build.include(dir);
    }
    build.compile("pxg_avif_seq");
    pkg_config::Config::new()
        .atleast_version("4.5")
        .probe("libtiff-4")
        .expect("libtiff 4.5 or newer (Debian: libtiff-dev) is needed; scripts/install-deps installs it");
}
