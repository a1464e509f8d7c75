use super::*;

#[test]
fn group_buttons_round_trip_and_refuse_anything_else() {
    for button in [
        GroupButton::Claim("c1234".into()),
        GroupButton::Note {
            id: 7,
            approve: true,
        },
        GroupButton::Note {
            id: 8,
            approve: false,
        },
    ] {
        assert_eq!(GroupButton::parse(&button.data()), Some(button));
    }
    for other in [
        "t:MLG-2026-000001:resolved",
        "note:x:approve",
        "note:1:maybe",
        "",
    ] {
        assert_eq!(GroupButton::parse(other), None, "{other}");
    }
}
