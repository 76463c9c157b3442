//! The Logical Data Structure of ICAO Doc 9303 Part 10: a typed codec per elementary file, shared
//! by the reader (decode) and the virtual card (encode).

pub mod dg14;
pub mod dg15;
