fn main() {
    std::process::exit(authprobe::cli::main());
}
