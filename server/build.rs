//! `sqlx::migrate!` embeds the migrations at compile time; without this, a build
//! after adding a migration file would quietly ship without it.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
