// refinery's embed_migrations! reads migrations/ at compile time; tell cargo to
// rebuild when a migration is added or changed.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=queries");
}
