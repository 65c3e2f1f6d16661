fn main() {
    // Rust ignores SIGPIPE, which turns `authprobe checks | head` into a panic on the next
    // print. A command-line tool should end quietly when its reader goes away.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(authprobe::cli::main());
}
