//! OAuth 2.0 user context pieces (the alternative to OAuth 1.0a): PKCE S256 and the Basic
//! authorization of a confidential client. The token exchange, the rotating refresh token kept in
//! the database, and the sandbox's token endpoint build on these (issue 3, next step).

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The PKCE S256 challenge of a code verifier: base64url(SHA-256(verifier)) without padding.
pub fn code_challenge(verifier: &str) -> String {
    let digest = Sha256::digest(verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// A fresh code verifier: 64 characters from the unreserved set (RFC 7636 allows 43 to 128).
pub fn new_code_verifier() -> String {
    use rand::Rng as _;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let mut rng = rand::rng();
    (0..64)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// `Authorization: Basic base64(client_id:client_secret)` for the token endpoint.
pub fn basic_authorization(client_id: &str, client_secret: &str) -> String {
    let pair = format!("{client_id}:{client_secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// The authorize URL a person opens once to let the bot act as the account (scopes include
/// `offline.access`, so a refresh token comes back).
pub fn authorize_url(
    authorize_base: &str,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    verifier: &str,
) -> String {
    use super::oauth1::percent_encode as enc;
    format!(
        "{authorize_base}?response_type=code&client_id={}&redirect_uri={}&scope={}&state={}\
         &code_challenge={}&code_challenge_method=S256",
        enc(client_id),
        enc(redirect_uri),
        enc("tweet.read tweet.write users.read offline.access"),
        enc(state),
        code_challenge(verifier)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn basic_authorization_matches_xs_documented_example() {
        assert_eq!(
            basic_authorization(
                "xvz1evFS4wEEPTGEFPHBog",
                "L8qq9PZyRg6ieKGEKhZolGC0vJWLw8iEJ88DRdyOg"
            ),
            "Basic eHZ6MWV2RlM0d0VFUFRHRUZQSEJvZzpMOHFxOVBaeVJnNmllS0dFS2hab2xHQzB2SldMdzhpRUo4OERSZHlPZw=="
        );
    }

    #[test]
    fn verifiers_are_valid_and_fresh() {
        let a = new_code_verifier();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_code_verifier());
        let url = authorize_url(
            "https://x.com/i/oauth2/authorize",
            "cid",
            "http://127.0.0.1/cb",
            "s1",
            &a,
        );
        assert!(url.contains("scope=tweet.read%20tweet.write%20users.read%20offline.access"));
        assert!(url.contains(&format!("code_challenge={}", code_challenge(&a))));
    }
}
