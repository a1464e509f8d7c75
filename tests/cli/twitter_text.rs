//! The weighted-length cases of the twitter-text conformance suite
//! (../shared/data/twitter-text/conformance/validate.yml), under the v3 configuration that X uses
//! today: `WeightedTweetsWithDiscountedEmojiCounterTest` and `UnicodeDirectionalMarkerCounterTest`.

use kicau::tweet::{is_valid, weighted_length};

use crate::helpers::shared;

#[test]
fn weighted_length_passes_the_conformance_suite() {
    let Some(shared) = shared() else {
        return;
    };
    let path = shared.join("data/twitter-text/conformance/validate.yml");
    let suite: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut count = 0;
    for section in [
        "WeightedTweetsWithDiscountedEmojiCounterTest",
        "UnicodeDirectionalMarkerCounterTest",
    ] {
        for case in suite["tests"][section].as_sequence().unwrap() {
            count += 1;
            let text = case["text"].as_str().unwrap();
            let expected = case["expected"]["weightedLength"].as_u64().unwrap() as usize;
            let valid = case["expected"]["valid"].as_bool().unwrap();
            let got = weighted_length(text);
            let got_valid = is_valid(text);
            if got != expected || got_valid != valid {
                failures.push(format!(
                    "{}: expected {expected} ({valid}), got {got} ({got_valid})",
                    case["description"].as_str().unwrap()
                ));
            }
        }
    }
    assert!(count >= 24, "the suite has {count} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
