//! Links Debian's libavif for AVIF image sequences through a small C shim
//! (csrc/avif_seq.c), so no libavif struct layout is mirrored in Rust.

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
}
