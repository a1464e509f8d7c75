//! What a good announcement holds, read from its text: what happens, when, where, who it is for
//! or who is affected, and an official contact or link. Each point is found by the words people
//! write for it; what is missing is asked of the agency, in Indonesian. Also the other checks
//! staff see before approving: personal data (blocks approval), links that are not official
//! (flagged), and the tweets the text becomes.

use std::sync::LazyLock;

use regex::Regex;

use crate::config::AnnounceConfig;
use crate::language::pii::{PiiKind, detect};

/// One point of the checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    What,
    When,
    Where,
    Who,
    Contact,
}

impl Point {
    pub const ALL: [Point; 5] = [
        Point::What,
        Point::When,
        Point::Where,
        Point::Who,
        Point::Contact,
    ];

    /// The point as the checklist names it.
    pub fn label(self) -> &'static str {
        match self {
            Point::What => "Apa (kegiatan atau kabarnya)",
            Point::When => "Kapan (tanggal dan jam)",
            Point::Where => "Di mana (tempat atau wilayah)",
            Point::Who => "Siapa yang boleh ikut atau terdampak",
            Point::Contact => "Kontak atau tautan resmi",
        }
    }

    /// What the bot asks the agency for when the point is missing.
    pub fn question(self) -> &'static str {
        match self {
            Point::What => "kegiatan atau kabar apa yang diumumkan",
            Point::When => "tanggal dan jamnya",
            Point::Where => "tempat atau wilayahnya",
            Point::Who => "siapa yang boleh ikut atau siapa yang terdampak",
            Point::Contact => "kontak atau tautan resmi untuk informasi lebih lanjut",
        }
    }
}

static WHEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)\b(
            senin|selasa|rabu|kamis|jumat|jum'at|sabtu|minggu|ahad
          | januari|februari|maret|april|mei|juni|juli|agustus|september|oktober|november|desember
          | jan|feb|mar|apr|jun|jul|agu|agt|sep|okt|nov|des
          | besok|lusa|hari\s+ini|malam\s+ini|pekan\s+ini|minggu\s+ini|bulan\s+ini
          | pukul|jam\s+\d|wib
          | \d{1,2}[./-]\d{1,2}([./-]\d{2,4})?
          | \d{1,2}[.:]\d{2}
          | mulai\s+\d|s\.?d\.?|hingga\s+\d|sampai\s+\d
        )\b",
    )
    .expect("the when pattern")
});

static WHERE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)\b(
            di\s+\w+|lokasi|tempat|alun[-\s]?alun|balai\s+kota|gedung|kantor|jalan|jl\.?|gor|stadion
          | kelurahan|kecamatan|kel\.|kec\.|kota\s+malang|se-?kota|seluruh\s+wilayah|wilayah
          | taman|lapangan|pasar|puskesmas|rsud|sekolah|daring|online|zoom|youtube
        )\b",
    )
    .expect("the where pattern")
});

static WHO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)\b(
            warga|masyarakat|umum|peserta|pelajar|siswa|mahasiswa|lansia|balita|anak|ibu\s+hamil
          | pengendara|pengguna\s+jalan|pedagang|umkm|pelaku\s+usaha|asn|pegawai|penduduk
          | terbuka\s+untuk|khusus|bagi|sasaran|terdampak|gratis
        )\b",
    )
    .expect("the who pattern")
});

static CONTACT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)(https?://\S+|\b(
            hubungi|kontak|informasi\s+lebih\s+lanjut|info\s+lebih\s+lanjut|narahubung|call\s+center
          | pendaftaran|daftar\s+(di|melalui|lewat)|instagram|ig\s*@|@\w{2,}|telp|telepon|wa\b|whatsapp
          | \w+\.go\.id|malangkota
        )\b)",
    )
    .expect("the contact pattern")
});

static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:/[^\s]*)?").expect("links")
});

/// A draft's text against the checklist and the other checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The points the text holds.
    pub present: Vec<Point>,
    /// The points it lacks, in checklist order.
    pub missing: Vec<Point>,
    /// The kinds of personal data in it (approval is blocked while there is any).
    pub personal_data: Vec<PiiKind>,
    /// Hosts of links that are not official.
    pub unofficial_links: Vec<String>,
    /// Whether it holds a link at all (a post with a URL costs more on X).
    pub has_link: bool,
}

/// Reviews `text`; `has_event` when staff gave the event's date (it answers "when").
pub fn review(text: &str, has_event: bool, config: &AnnounceConfig) -> Review {
    let words = text.split_whitespace().count();
    let mut present = Vec::new();
    let mut missing = Vec::new();
    for point in Point::ALL {
        let found = match point {
            Point::What => words >= 5,
            Point::When => has_event || WHEN.is_match(text),
            Point::Where => WHERE.is_match(text),
            Point::Who => WHO.is_match(text),
            Point::Contact => CONTACT.is_match(text),
        };
        if found {
            present.push(point);
        } else {
            missing.push(point);
        }
    }
    let mut personal_data: Vec<PiiKind> = detect(text).into_iter().map(|s| s.kind).collect();
    personal_data.dedup();
    let mut unofficial_links = Vec::new();
    let mut has_link = false;
    for m in LINK.captures_iter(text) {
        let whole = m.get(0).map_or("", |m| m.as_str());
        let host = m[1].to_ascii_lowercase();
        // "pukul 08.00" or "Rp1.000" are not hosts: a host's last label is letters.
        let looks_like_link = whole.contains("://")
            || whole.starts_with("www.")
            || host.ends_with(".id")
            || host.ends_with(".com")
            || host.ends_with(".ly")
            || host.ends_with(".org")
            || host.ends_with(".net");
        if !looks_like_link || text[..m.get(0).map_or(0, |m| m.start())].ends_with('@') {
            continue;
        }
        has_link = true;
        if !config.is_official_host(&host) && !unofficial_links.contains(&host) {
            unofficial_links.push(host);
        }
    }
    Review {
        present,
        missing,
        personal_data,
        unofficial_links,
        has_link,
    }
}

/// The bot's answer in the agency's chat: the draft's number and the checklist, what is missing
/// marked and asked for.
pub fn chat_reply(number: i64, review: &Review) -> String {
    let mut lines = vec![format!("Kabar diterima sebagai draf #{number}.")];
    for point in Point::ALL {
        let mark = if review.present.contains(&point) {
            "✅"
        } else {
            "❌"
        };
        lines.push(format!("{mark} {}", point.label()));
    }
    if !review.personal_data.is_empty() {
        lines.push(
            "⚠️ Ada data pribadi (NIK atau nomor pribadi): mohon kirim ulang tanpa data itu."
                .to_owned(),
        );
    }
    if review.missing.is_empty() {
        lines.push("Lengkap. Petugas Diskominfo akan meninjau sebelum terbit.".to_owned());
    } else {
        let asked: Vec<&str> = review.missing.iter().map(|p| p.question()).collect();
        lines.push(format!(
            "Mohon lengkapi dengan membalas pesan ini: {}.",
            asked.join("; ")
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> AnnounceConfig {
        AnnounceConfig::default()
    }

    #[test]
    fn a_complete_announcement_lacks_nothing() {
        let text = "Vaksinasi polio gratis untuk balita pada Sabtu, 12 Desember 2026 pukul \
                    08.00-12.00 WIB di Puskesmas Kendalkerep. Info lebih lanjut: \
                    https://dinkes.malangkota.go.id";
        let r = review(text, false, &config());
        assert!(r.missing.is_empty(), "{r:?}");
        assert!(r.has_link);
        assert!(r.unofficial_links.is_empty());
        assert!(r.personal_data.is_empty());
    }

    #[test]
    fn a_bare_announcement_asks_for_time_place_and_contact() {
        let r = review("Akan ada kerja bakti bersama warga", false, &config());
        assert_eq!(r.missing, [Point::When, Point::Where, Point::Contact]);
        let reply = chat_reply(7, &r);
        assert!(reply.starts_with("Kabar diterima sebagai draf #7."));
        assert!(reply.contains("❌ Kapan"));
        assert!(reply.contains("✅ Siapa"));
        assert!(reply.contains("tanggal dan jamnya"));
        // The event's date given by staff answers "when".
        let r = review("Akan ada kerja bakti bersama warga", true, &config());
        assert!(!r.missing.contains(&Point::When));
    }

    #[test]
    fn unofficial_links_are_flagged_and_times_are_not_links() {
        let r = review(
            "Daftar di bit.ly/daftar-umkm atau www.example.com sebelum pukul 16.00, Rp1.000",
            false,
            &config(),
        );
        assert_eq!(r.unofficial_links, ["bit.ly", "www.example.com"]);
        assert!(r.has_link);
        let r = review("Mulai pukul 08.00 di Balai Kota", false, &config());
        assert!(!r.has_link, "{r:?}");
    }

    #[test]
    fn personal_data_is_found() {
        let r = review(
            "Hubungi Pak Budi 0812-3456-7890 atau NIK 3573012345670001 untuk daftar",
            false,
            &config(),
        );
        assert!(r.personal_data.contains(&PiiKind::IdNumber), "{r:?}");
    }
}
