#![no_main]
//! An API description may come from the server under test: any bytes read as a
//! description (JSON, YAML, garbage) give a model or an error, never a panic, a hang or a
//! stack overflow; and what a model holds can be used (labels, URLs, security) without one.

use authprobe::spec::{self, Declared};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = spec::parse(data, "fuzz.yaml") else {
        return;
    };
    let base = url::Url::parse("https://h.test/api/").unwrap();
    for op in &s.operations {
        let _ = op.label();
        let _ = op.pointer();
        let _ = op.url(&base);
        let _ = s.describe_security(op);
        let _ = op.satisfiable(&s, &|_| true);
        if let Declared::Required(r) = &op.security {
            assert!(!r.is_empty());
        }
    }
    let _ = spec::base_url(&s, None, Some(&base));
});
