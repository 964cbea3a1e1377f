//! The pure core: no I/O, no clock, no JavaScript. Each part is a state
//! machine that is fed input and hands back output.

pub mod citation;
pub mod pipeline;
pub mod protocol;
pub mod sse;
