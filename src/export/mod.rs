//! Writers over `impl Write`: what leaves the database for people and programs.

pub mod chart;
pub mod csv;
pub mod files;
pub mod gnuplot;
pub mod html;
pub mod table;
