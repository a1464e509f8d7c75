/*!
X's two vocabularies and the values its field and expansion parameters accept.

X's guides and OpenAPI spec v2.159 name tweets (`tweet.fields`, `referenced_tweets`,
`referenced_tweets.id`, `includes.tweets`, `edit_history_tweet_ids`); spec v2.167 and the official
SDK `xdk` name posts (`post.fields`, `referenced_posts`, `includes.posts`,
`edit_history_post_ids`). A request may use either; the answer uses the vocabulary the request
used (tweets when it used neither). Values outside the spec's enumerations get X's 400 naming
them (reference/apis.md 1.0).
*/

use serde_json::{Value, json};

/// Which names an answer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Vocabulary {
    Tweets,
    Posts,
}

impl Vocabulary {
    /// The vocabulary of a request: posts when it asked for `post.fields` or a post-only
    /// expansion, else tweets.
    pub(super) fn of(post_fields: bool, expansions: &[&str]) -> Vocabulary {
        let post_only = |e: &&str| {
            (POST_EXPANSIONS.contains(e) && !TWEET_EXPANSIONS.contains(e))
                || e.starts_with("referenced_posts")
        };
        if post_fields || expansions.iter().any(post_only) {
            Vocabulary::Posts
        } else {
            Vocabulary::Tweets
        }
    }

    /// The name of `tweet_word` (a key that names tweets) in this vocabulary.
    pub(super) fn name(self, tweet_word: &'static str) -> &'static str {
        match (self, tweet_word) {
            (Vocabulary::Tweets, word) => word,
            (Vocabulary::Posts, "referenced_tweets") => "referenced_posts",
            (Vocabulary::Posts, "edit_history_tweet_ids") => "edit_history_post_ids",
            (Vocabulary::Posts, "tweets") => "posts",
            (Vocabulary::Posts, word) => word,
        }
    }
}

/// `tweet.fields` in spec v2.159.
const TWEET_FIELDS: &[&str] = &[
    "article",
    "attachments",
    "author_id",
    "card_uri",
    "community_id",
    "context_annotations",
    "conversation_id",
    "created_at",
    "display_text_range",
    "edit_controls",
    "edit_history_tweet_ids",
    "entities",
    "geo",
    "id",
    "in_reply_to_user_id",
    "lang",
    "media_metadata",
    "non_public_metrics",
    "note_tweet",
    "organic_metrics",
    "possibly_sensitive",
    "promoted_metrics",
    "public_metrics",
    "referenced_tweets",
    "reply_settings",
    "scopes",
    "source",
    "suggested_source_links",
    "suggested_source_links_with_counts",
    "text",
    "withheld",
];

/// `post.fields` in spec v2.167, with the Post schema's property names its enumeration lacks
/// (`author_id`, `in_reply_to_user_id`, `referenced_posts`, `edit_history_post_ids`, `username`),
/// which clients ask for.
const POST_FIELDS: &[&str] = &[
    "article",
    "article_title",
    "attachments",
    "author_id",
    "card_uri",
    "community_id",
    "context_annotations",
    "conversation_id",
    "created_at",
    "display_text_range",
    "edit_controls",
    "edit_history_post_ids",
    "entities",
    "geo",
    "id",
    "in_reply_to_user_id",
    "lang",
    "matched_media_notes",
    "media_metadata",
    "non_public_metrics",
    "note_post",
    "note_request_suggestions",
    "organic_metrics",
    "paid_partnership",
    "possibly_sensitive",
    "promoted_metrics",
    "public_metrics",
    "referenced_posts",
    "reply_settings",
    "scopes",
    "source",
    "suggested_source_links",
    "suggested_source_links_with_counts",
    "text",
    "username",
    "withheld",
];

/// Tweet expansions in spec v2.159.
const TWEET_EXPANSIONS: &[&str] = &[
    "article.cover_media",
    "article.media_entities",
    "attachments.media_keys",
    "attachments.media_source_tweet",
    "attachments.poll_ids",
    "author_id",
    "edit_history_tweet_ids",
    "entities.mentions.username",
    "geo.place_id",
    "in_reply_to_user_id",
    "entities.note.mentions.username",
    "referenced_tweets.id",
    "referenced_tweets.id.attachments.media_keys",
    "referenced_tweets.id.author_id",
];

/// Post expansions in spec v2.167 (`referenced_posts.id` as X's guides write the newer name).
const POST_EXPANSIONS: &[&str] = &[
    "article.cover_media",
    "article.media_entities",
    "attachments.media_keys",
    "attachments.media_source_tweet",
    "attachments.poll_ids",
    "author_id",
    "edit_history_post_ids",
    "entities.mentions.username",
    "geo.place_id",
    "in_reply_to_user_id",
    "referenced_posts",
    "referenced_posts.id",
    "username",
];

/// `user.fields` in either spec.
const USER_FIELDS: &[&str] = &[
    "affiliation",
    "confirmed_email",
    "connection_status",
    "created_at",
    "description",
    "entities",
    "id",
    "is_identity_verified",
    "location",
    "most_recent_tweet_id",
    "name",
    "parody",
    "pinned_tweet_id",
    "profile_banner_url",
    "profile_image_url",
    "protected",
    "public_metrics",
    "receives_your_dm",
    "subscribes_to_you",
    "subscription",
    "subscription_type",
    "url",
    "username",
    "verified",
    "verified_followers_count",
    "verified_type",
    "withheld",
];

/// `media.fields` in either spec.
const MEDIA_FIELDS: &[&str] = &[
    "alt_text",
    "duration_ms",
    "height",
    "media_key",
    "non_public_metrics",
    "organic_metrics",
    "preview_image_url",
    "promoted_metrics",
    "public_metrics",
    "type",
    "url",
    "variants",
    "width",
];

/// The values a parameter accepts, for the parameters this module checks.
fn accepted(parameter: &str) -> Option<Vec<&'static str>> {
    Some(match parameter {
        "tweet.fields" => TWEET_FIELDS.to_vec(),
        "post.fields" => POST_FIELDS.to_vec(),
        // Either vocabulary's expansions: a request may mix the spec it read with the guides.
        "expansions" => {
            let mut all = TWEET_EXPANSIONS.to_vec();
            all.extend(
                POST_EXPANSIONS
                    .iter()
                    .filter(|e| !TWEET_EXPANSIONS.contains(e)),
            );
            all
        }
        "user.fields" => USER_FIELDS.to_vec(),
        "media.fields" => MEDIA_FIELDS.to_vec(),
        _ => return None,
    })
}

/// X's 400 for field or expansion values outside the spec's enumerations, one error per
/// value, or None when every value is known. `parameters` are `(name, comma-separated value)`.
pub(super) fn invalid_values(parameters: &[(&str, Option<&str>)]) -> Option<Value> {
    let mut errors = Vec::new();
    for (name, value) in parameters {
        let (Some(value), Some(known)) = (value, accepted(name)) else {
            continue;
        };
        for item in value.split(',').map(str::trim) {
            if !known.contains(&item) {
                errors.push(json!({
                    "parameters": {*name: [item]},
                    "message": format!(
                        "The `{name}` query parameter value [{item}] is not one of [{}]",
                        known.join(",")
                    ),
                }));
            }
        }
    }
    (!errors.is_empty()).then(|| {
        json!({
            "errors": errors,
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.x.com/2/problems/invalid-request",
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_named_and_known_ones_pass() {
        assert!(
            invalid_values(&[
                ("tweet.fields", Some("created_at,referenced_tweets")),
                (
                    "post.fields",
                    Some("author_id,referenced_posts,edit_history_post_ids")
                ),
                (
                    "expansions",
                    Some("author_id,referenced_posts,referenced_tweets.id")
                ),
                ("user.fields", Some("username,name")),
                ("media.fields", Some("url,type")),
            ])
            .is_none()
        );
        let body = invalid_values(&[
            ("tweet.fields", Some("created_at,bogus_field")),
            ("expansions", Some("author_id,bogus.expansion")),
        ])
        .expect("refused");
        assert_eq!(
            body["errors"][0]["parameters"]["tweet.fields"][0],
            "bogus_field"
        );
        assert_eq!(
            body["errors"][1]["parameters"]["expansions"][0],
            "bogus.expansion"
        );
        assert_eq!(body["type"], "https://api.x.com/2/problems/invalid-request");
    }

    #[test]
    fn the_answer_speaks_the_requests_vocabulary() {
        assert_eq!(Vocabulary::of(false, &["author_id"]), Vocabulary::Tweets);
        assert_eq!(Vocabulary::of(true, &[]), Vocabulary::Posts);
        assert_eq!(
            Vocabulary::of(false, &["referenced_posts"]),
            Vocabulary::Posts
        );
        assert_eq!(
            Vocabulary::Posts.name("referenced_tweets"),
            "referenced_posts"
        );
        assert_eq!(Vocabulary::Tweets.name("tweets"), "tweets");
    }
}
