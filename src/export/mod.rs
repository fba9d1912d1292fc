//! Writers over `impl Write`: what leaves the database for people and programs.

pub mod csv;
pub mod table;
