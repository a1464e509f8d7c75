//! `[announce]`: agencies' announcements through the office (issue 15): how early an agency
//! should send, who must approve, which links count as official, and when "Berita Sepekan" is
//! drafted.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnnounceConfig {
    /// An announcement that arrives less than this many days before its event is counted late.
    pub lead_days: u32,
    /// A draft is approved by a staff member who did not edit its text (four-eyes).
    pub four_eyes: bool,
    /// Knowledge categories (`layanan`, `terkini`, ...) whose drafts one person may write and
    /// approve.
    pub four_eyes_waived: Vec<String>,
    /// Domains whose links are official besides `*.go.id` (subdomains included).
    pub official_domains: Vec<String>,
}

impl Default for AnnounceConfig {
    fn default() -> Self {
        AnnounceConfig {
            lead_days: 3,
            four_eyes: true,
            four_eyes_waived: Vec::new(),
            official_domains: vec!["malangkota.go.id".into()],
        }
    }
}

impl AnnounceConfig {
    /// Whether a link's host is official: `*.go.id`, or one of `official_domains` or under it.
    pub fn is_official_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        host.ends_with(".go.id")
            || self
                .official_domains
                .iter()
                .any(|d| host == *d || host.ends_with(&format!(".{d}")))
    }

    /// Whether drafts of `category` need a second person to approve them.
    pub fn needs_second_person(&self, category: Option<&str>) -> bool {
        self.four_eyes && !category.is_some_and(|c| self.four_eyes_waived.iter().any(|w| w == c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_hosts_are_go_id_and_the_listed_domains() {
        let c = AnnounceConfig::default();
        assert!(c.is_official_host("malangkota.go.id"));
        assert!(c.is_official_host("dinkes.malangkota.go.id"));
        assert!(c.is_official_host("www.jatimprov.go.id"));
        assert!(!c.is_official_host("malangkota.go.id.example.com"));
        assert!(!c.is_official_host("bit.ly"));
        assert!(!c.is_official_host("go.id.evil.com"));
    }

    #[test]
    fn four_eyes_can_be_waived_per_category() {
        let mut c = AnnounceConfig::default();
        assert!(c.needs_second_person(Some("terkini")));
        c.four_eyes_waived = vec!["terkini".into()];
        assert!(!c.needs_second_person(Some("terkini")));
        assert!(c.needs_second_person(Some("kesehatan")));
        assert!(c.needs_second_person(None));
    }
}
