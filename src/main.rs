use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    memheat::run(memheat::Cli::parse())
}

/// The system's allocator, except that an allocation it refuses while
/// Typst works on a figure is that figure's error (exit 1), not Rust's
/// abort: a template can ask for terabytes in one step.
struct Allocator;

#[allow(unsafe_code)] // GlobalAlloc is an unsafe trait; every call goes to System unchanged
// SAFETY: each method passes its arguments to System's, which has the same
// contract, and returns its result.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller keeps GlobalAlloc::alloc's contract.
        checked(unsafe { System.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for alloc.
        checked(unsafe { System.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller keeps GlobalAlloc::realloc's contract.
        checked(unsafe { System.realloc(ptr, layout, new_size) }, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller keeps GlobalAlloc::dealloc's contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

fn checked(ptr: *mut u8, bytes: usize) -> *mut u8 {
    if ptr.is_null() {
        memheat::allocation_refused(bytes);
    }
    ptr
}

#[global_allocator]
static ALLOCATOR: Allocator = Allocator;
