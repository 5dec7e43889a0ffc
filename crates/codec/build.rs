//! Links Debian's libtiff (libtiff-dev, 4.5) found through pkg-config: the
//! TIFF decoder (src/tiff.rs) is a small hand-written FFI module over it.
//! No maintained `-sys` crate links the system library with the 4.5
//! open-options API this module uses.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Err(e) = pkg_config::Config::new()
        .atleast_version("4.5")
        .probe("libtiff-4")
    {
        panic!("libtiff 4.5 or newer is needed (scripts/install-deps installs libtiff-dev): {e}");
    }
}
