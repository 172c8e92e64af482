//! `cargo xtask`: project automation.

fn main() {
    eprintln!("usage: cargo xtask <codegen|ci|bench|release>");
    std::process::exit(2);
}
