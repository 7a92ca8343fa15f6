use super::*;

fn fix(s: &str) -> String {
    typography(s, &Options::default()).0.into_owned()
}

#[test]
fn seed_example() {
    assert_eq!(fix("he said immediately, ”he said"), "he said immediately, ”he said");
}
