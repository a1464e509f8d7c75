/*!
What a request to a paid platform is billed for, as the platform's price list names it. The
clients report the units each request used ([`Billed`]); the code that called them records the
units through the store, where the costs are priced and summed (`crate::costs`).

X (pay-per-use since 6 Feb 2026, docs.x.com): a post read, a post of the account's own mentions,
a user object, a post created, a "summoned" reply (to a post whose author mentioned the account),
a post containing a URL; the same resource is billed once per UTC day. WhatsApp (per message since
1 Jul 2025): each delivered message by its pricing category, as the status webhook names it.
*/

/// A unit of a platform's price list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    /// X: a post returned by the account's own mentions timeline.
    XOwnMentionRead,
    /// X: any other post read (a post by id, a timeline, a referenced post in `includes`).
    XPostRead,
    /// X: a user object (`users/me`, a user by name, each user in `includes.users`).
    XUserRead,
    /// X: a post created that is neither a summoned reply nor a post with a URL.
    XPostCreated,
    /// X: a reply to a post whose author mentioned the account.
    XSummonedReply,
    /// X: a post containing a URL.
    XPostWithUrl,
    /// WhatsApp: a delivered message in the `service` category (free-form, in the window).
    WhatsAppService,
    /// WhatsApp: a delivered `utility` template.
    WhatsAppUtility,
    /// WhatsApp: a delivered `marketing` template.
    WhatsAppMarketing,
    /// WhatsApp: a delivered `authentication` template.
    WhatsAppAuthentication,
}

impl Unit {
    /// Every unit, in the order reports list them.
    pub const ALL: [Unit; 10] = [
        Unit::XOwnMentionRead,
        Unit::XPostRead,
        Unit::XUserRead,
        Unit::XPostCreated,
        Unit::XSummonedReply,
        Unit::XPostWithUrl,
        Unit::WhatsAppService,
        Unit::WhatsAppUtility,
        Unit::WhatsAppMarketing,
        Unit::WhatsAppAuthentication,
    ];

    /// The unit's stored name.
    pub fn name(self) -> &'static str {
        match self {
            Unit::XOwnMentionRead => "x.own_mentions_read",
            Unit::XPostRead => "x.posts_read",
            Unit::XUserRead => "x.users_read",
            Unit::XPostCreated => "x.posts_created",
            Unit::XSummonedReply => "x.summoned_replies",
            Unit::XPostWithUrl => "x.posts_with_url",
            Unit::WhatsAppService => "whatsapp.service",
            Unit::WhatsAppUtility => "whatsapp.utility",
            Unit::WhatsAppMarketing => "whatsapp.marketing",
            Unit::WhatsAppAuthentication => "whatsapp.authentication",
        }
    }

    /// The unit of a stored name.
    pub fn of_name(name: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.name() == name)
    }

    /// The unit of a WhatsApp pricing category (`pricing.category` in a status webhook).
    pub fn of_whatsapp_category(category: &str) -> Option<Unit> {
        match category {
            "service" => Some(Unit::WhatsAppService),
            "utility" => Some(Unit::WhatsAppUtility),
            "marketing" | "marketing_lite" => Some(Unit::WhatsAppMarketing),
            "authentication" | "authentication-international" | "authentication_international" => {
                Some(Unit::WhatsAppAuthentication)
            }
            _ => None,
        }
    }

    /// Whether X bills the same resource once per UTC day (reads), rather than per request.
    pub fn once_a_day(self) -> bool {
        matches!(
            self,
            Unit::XOwnMentionRead | Unit::XPostRead | Unit::XUserRead
        )
    }
}

/// One billed unit: what, and which resource (a post id, a user id, a message id).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Billed {
    pub unit: Unit,
    pub resource: String,
}

impl Billed {
    pub fn new(unit: Unit, resource: impl Into<String>) -> Billed {
        Billed {
            unit,
            resource: resource.into(),
        }
    }
}

/// The unit X bills for creating `text`: a URL makes any post the dearest kind; otherwise a
/// reply to a citizen who mentioned the account is a summoned reply.
pub fn x_post_unit(text: &str, summoned: bool) -> Unit {
    if !crate::tweet::urls(text).is_empty() {
        Unit::XPostWithUrl
    } else if summoned {
        Unit::XSummonedReply
    } else {
        Unit::XPostCreated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for unit in Unit::ALL {
            assert_eq!(Unit::of_name(unit.name()), Some(unit));
        }
        assert_eq!(Unit::of_name("x.unknown"), None);
    }

    #[test]
    fn a_url_anywhere_makes_the_post_the_dearest_kind() {
        assert_eq!(
            x_post_unit("@warga cek https://siapel.malangkota.go.id ya", true),
            Unit::XPostWithUrl
        );
        // twitter-text links a bare domain too, so X counts it as a URL.
        assert_eq!(
            x_post_unit("@warga cek malangkota.go.id", true),
            Unit::XPostWithUrl
        );
        assert_eq!(
            x_post_unit("@warga cek situs SIAPEL", true),
            Unit::XSummonedReply
        );
        assert_eq!(x_post_unit("2/2 sekian", false), Unit::XPostCreated);
    }

    #[test]
    fn whatsapp_categories_map_to_units() {
        assert_eq!(
            Unit::of_whatsapp_category("utility"),
            Some(Unit::WhatsAppUtility)
        );
        assert_eq!(
            Unit::of_whatsapp_category("service"),
            Some(Unit::WhatsAppService)
        );
        assert_eq!(Unit::of_whatsapp_category("referral_conversion"), None);
    }
}
