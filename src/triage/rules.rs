//! The cue lists: features of the learned model, and the safety net that may overrule it.
//!
//! Cue lists are plain or informal words (see [`super::cues`]); they are compiled once through the
//! analyzer, so each list reads the way citizens write. Every list (and every agency's remit and
//! places) is a feature the model weighs; only the danger lists and the lists of what must not be
//! answered automatically act on their own, in [`Rules::net`].

use super::cues::{CueSet, Stems};
use crate::config::Config;
use crate::language::Analyzer;

/// A person's life or safety at risk right now.
#[rustfmt::skip]
const CRITICAL: &[&str] = &[
    "tidak sadar", "tidak sadarkan diri", "pingsan", "kejang", "sesak napas", "napasnya sesak",
    "tidak bernapas", "tidak bangun", "tenggelam", "hanyut", "keli", "klelep", "terseret arus",
    "keseret arus", "terbawa arus", "terjebak", "kejebak", "terjepit", "kejepit", "tertimpa",
    "ketimpa", "kena timpa", "tertimbun", "luka parah", "terluka parah", "tergeletak",
    "kecelakaan + berdarah", "kecelakaan + luka", "kecelakaan + korban", "jatuh + tidak sadar",
    "orang di dalam", "masih di dalam", "masih ada penghuni", "ada penghuni", "ada orang + dalam",
    "anak + dalam", "unconscious", "not breathing", "trapped", "people inside", "still inside",
    "injured", "drowning", "heart attack", "serangan jantung", "overdosis", "kesetrum",
    "tersengat listrik", "ular + bayi", "ular kobra + kamar", "tidak bisa jalan", "kursi roda",
    "wheelchair", "gantung diri", "bunuh diri", "mau loncat",
];

/// Danger that becomes an emergency when it is happening now.
#[rustfmt::skip]
const HAZARD: &[&str] = &[
    "kebakaran", "terbakar", "api", "apinya", "asap hitam", "asap tebal", "fire", "smoke",
    "air masuk rumah", "banjir masuk rumah", "air naik", "air mundhak", "air masuk", "sedengkul",
    "sepinggang", "sak dengkul", "flood", "kecelakaan", "tabrakan", "accident", "longsor",
    "roboh + orang", "ambruk", "percikan api", "korsleting", "korslet", "gas bocor", "tabung gas",
    "ular kobra", "gempa", "tanggul jebol",
];

/// Words that say it is happening now.
#[rustfmt::skip]
const IMMEDIATE: &[&str] = &[
    "sekarang", "saat ini", "barusan", "masih", "cepat", "cepet", "segera", "darurat", "help",
    "urgent", "tolong", "terus naik", "belum datang", "rising", "now", "fast",
];

/// Words that say it is not happening now, or that the tweet asks about it.
#[rustfmt::skip]
const DEFUSED: &[&str] = &[
    "kemarin", "semalam", "minggu lalu", "bulan lalu", "tahun lalu", "tidak ada korban",
    "tanpa korban", "sudah padam", "sudah ditangani", "sudah surut", "simulasi", "latihan",
    "kalau ada", "jika ada", "jika terjadi", "kalau terjadi", "nomor", "berapa", "rawan",
    "langganan", "macet", "bagaimana cara", "info", "waspada", "tips", "belum ada yang",
];

/// Cues that make an emergency medical (the reply adds 119).
#[rustfmt::skip]
const MEDICAL: &[&str] = &[
    "tidak sadar", "pingsan", "kejang", "sesak", "napas", "luka", "berdarah", "kecelakaan",
    "ambulans", "jatuh", "korban", "serangan jantung", "unconscious", "injured", "breathing",
    "tergeletak",
];

/// Advertising and scams.
#[rustfmt::skip]
const SPAM: &[&str] = &[
    "bitcoin", "crypto", "kripto", "invest", "investasi + untung", "slot", "gacor", "maxwin",
    "judi", "togel", "jual followers", "followers murah", "giveaway", "pinjaman online", "pinjol",
    "cek bio", "link di bio", "link bio", "klik link", "verified badge", "claim now",
    "dm sekarang", "dm admin", "bi checking", "cair + menit", "promo", "diskon", "open order",
    "pemenang undian", "terpilih sebagai pemenang", "undian", "kerja dari rumah", "tanpa modal",
    "tidak pakai modal", "like dan share", "like share", "penghasilan + hari",
];

/// Words that insult; with nothing to act on or answer, the tweet is ignored.
#[rustfmt::skip]
const INSULT: &[&str] = &[
    "goblok", "goblog", "tolol", "bodoh", "bego", "dungu", "geblek", "ndasmu", "matamu",
    "bangsat", "jancok", "jancuk", "cok", "asu", "kampret", "taek", "tai", "babi", "bajingan",
    "brengsek", "idiot", "stupid", "otak udang",
];

/// Demands for a person, or for contact outside the thread.
#[rustfmt::skip]
const HUMAN: &[&str] = &[
    "bicara dengan petugas", "bicara dengan orang", "bicara sama petugas", "ngomong sama petugas",
    "ngobrol sama petugas", "dengan manusia", "sama manusia", "admin asli", "petugas asli",
    "orang asli", "bukan bot", "sambungkan ke petugas", "hubungi saya", "telepon saya",
    "kontak saya", "ketemu langsung", "bertemu langsung", "audiensi", "interview", "wawancara",
    "talk to someone", "speak to", "real person", "mau bicara", "minta bicara",
];

/// A citizen's own case, which only a person can look up.
#[rustfmt::skip]
const OWN_CASE: &[&str] = &[
    "status pengajuan", "nomor registrasi", "no registrasi", "no tiket", "nomor tiket",
    "kelanjutan laporan", "status laporan", "laporan saya", "pengajuan saya", "sampai mana",
    "sudah ditindaklanjuti", "ditindaklanjuti belum", "apakah saya terdaftar", "saya terdaftar",
    "dicek apakah", "yang kemarin itu", "sengketa", "korban penipuan",
];

/// Rumours, anger and opinions: a person answers those, not the knowledge base.
#[rustfmt::skip]
const SENSITIVE: &[&str] = &[
    "hoax", "hoaks", "rumor", "isu", "percuma", "kecewa", "muak", "pencitraan",
    "tanggapan resmi", "posisi resmi", "official position",
];

/// A problem that somebody must fix.
#[rustfmt::skip]
const COMPLAINT: &[&str] = &[
    "rusak", "lubang", "berlubang", "lampu + mati", "air + mati", "ac + mati", "pju + mati",
    "mati total", "mati semua", "padam", "bocor", "tersumbat", "menumpuk", "numpuk",
    "tidak diangkut", "belum diangkut", "kotor", "bau", "keruh", "liar", "curang", "pungli",
    "calo", "salah sasaran", "belum dibayar", "tidak dibayar", "belum jadi", "ambles", "amblas",
    "retak", "jebol", "ambrol", "longsor", "tumbang", "roboh", "semrawut", "macet", "gelap",
    "berisik", "salah input", "belum diterima", "belum datang", "mengemis", "telantar",
    "terlantar", "digigit", "mati mendadak", "sakit kulit", "tidak ada tindakan", "lama sekali",
    "parah", "ancur", "hancur", "kawah", "ngetem", "sumbangan", "pungutan", "wajib bayar",
    "tidak sopan", "menawarkan jasa", "naik + lipat", "reged", "mampet", "genang", "nggenang",
    "cracked", "broken", "crack", "antre + lama", "antrean + lama", "dibuang", "buang sampah",
    "angin kencang", "gentengnya", "tidak bisa lewat", "makan jalan", "tidak bisa tidur",
    "harga + naik", "menembus", "sarang", "mengganggu", "sembarangan", "kena demam berdarah",
    "kena dbd", "kapan ditambal", "kapan diperbaiki", "dievaluasi", "evaluasi",
];

/// A request that somebody act.
#[rustfmt::skip]
const REQUEST: &[&str] = &[
    "ditindak", "ditertibkan", "ditertibno", "diperbaiki", "didandani", "dibersihkan", "dicek",
    "ditangani", "dievaluasi", "dibenahi", "dievakuasi", "diangkut", "ditambal", "ditera",
    "penertiban", "pemangkasan", "pengecekan", "pemantauan", "ditinjau", "diambil", "lapor",
    "melaporkan", "laporan", "keluhan", "mengadu", "aduan", "check it", "fix", "dibantu",
    "bantuan", "minta tolong", "dipasang", "fogging", "pengasapan",
];

/// Question forms that ask for information rather than action.
#[rustfmt::skip]
const QUESTION: &[&str] = &[
    "bagaimana cara", "cara", "prosedur", "syarat", "di mana", "ke mana", "ke siapa", "berapa",
    "apa saja", "siapa", "how", "where", "who", "what", "jam berapa", "bisa tidak", "boleh",
];

/// A tweet that asks for the link (or the website) of what it asks about: with
/// `[x] links_in_replies = "on_request"` the answer then keeps its links. Not a feature of the
/// model: it shapes the reply, never the decision.
#[rustfmt::skip]
const LINK_REQUEST: &[&str] = &[
    "link", "linknya", "linkny", "linke", "link e", "lingk", "lingknya", "linkk", "lnk", "knil",
    "tautan", "tautannya", "url", "urlnya", "website", "websitenya", "websitene", "webside",
    "websit", "wesite", "web", "webnya", "webne", "webe", "situs", "situsnya", "situse", "laman",
    "lamannya", "alamat web", "alamat website", "alamat situs", "alamat online", "site",
    "homepage",
];

pub(super) struct Rules {
    critical: CueSet,
    hazard: CueSet,
    immediate: CueSet,
    defused: CueSet,
    medical: CueSet,
    spam: CueSet,
    insult: CueSet,
    human: CueSet,
    own_case: CueSet,
    sensitive: CueSet,
    complaint: CueSet,
    request: CueSet,
    question: CueSet,
    greeting: CueSet,
    link_request: CueSet,
    /// Per agency (ticket destinations only): its id, compiled remit and places.
    remits: Vec<(String, CueSet, CueSet)>,
}

impl Rules {
    pub(super) fn compile(analyzer: &Analyzer, config: &Config) -> Rules {
        let remits = config
            .agencies
            .iter()
            .filter(|a| a.tickets)
            .map(|a| {
                let phrases: Vec<&str> = a.remit.iter().map(String::as_str).collect();
                let places: Vec<&str> = a.places.iter().map(String::as_str).collect();
                (
                    a.id.clone(),
                    CueSet::compile("remit", analyzer, &phrases),
                    CueSet::compile("place", analyzer, &places),
                )
            })
            .collect();
        let set = |name, cues| CueSet::compile(name, analyzer, cues);
        Rules {
            critical: set("critical", CRITICAL),
            hazard: set("hazard", HAZARD),
            immediate: set("immediate", IMMEDIATE),
            defused: set("defused", DEFUSED),
            medical: set("medical", MEDICAL),
            spam: set("spam", SPAM),
            insult: set("insult", INSULT),
            human: set("human", HUMAN),
            own_case: set("own_case", OWN_CASE),
            sensitive: set("sensitive", SENSITIVE),
            complaint: set("complaint", COMPLAINT),
            request: set("request", REQUEST),
            question: set("question", QUESTION),
            greeting: set("greeting", crate::knowledge::index::GREETING),
            link_request: set("link", LINK_REQUEST),
            remits,
        }
    }
}

impl Rules {
    /// What the cue lists and the agencies' remits and places find in a text, as features for
    /// the learned model (`set:cue`, and `remit:<agency>` / `place:<agency>` per agency matched).
    pub(super) fn features(
        &self,
        analysis: &crate::language::Analysis,
        analyzer: &Analyzer,
    ) -> Vec<String> {
        let stems = Stems::of(analysis, analyzer);
        let mut out = Vec::new();
        for set in [
            &self.critical,
            &self.hazard,
            &self.immediate,
            &self.defused,
            &self.medical,
            &self.spam,
            &self.insult,
            &self.human,
            &self.own_case,
            &self.sensitive,
            &self.complaint,
            &self.request,
            &self.question,
            &self.greeting,
        ] {
            let hits = set.find(&stems);
            if !hits.is_empty() {
                out.push(format!("set:{}", set.name()));
            }
            out.extend(hits);
        }
        for (id, remit, places) in &self.remits {
            if !remit.find(&stems).is_empty() {
                out.push(format!("remit:{id}"));
            }
            if !places.find(&stems).is_empty() {
                out.push(format!("place:{id}"));
            }
        }
        out
    }
}

impl Rules {
    /// Whether a text asks for a link ([`LINK_REQUEST`]).
    pub(super) fn asks_for_link(
        &self,
        analysis: &crate::language::Analysis,
        analyzer: &Analyzer,
    ) -> bool {
        !self
            .link_request
            .find(&Stems::of(analysis, analyzer))
            .is_empty()
    }
}

/// What the safety net found in a text: the rules that may overrule the model.
#[derive(Debug, Default)]
pub(super) struct Net {
    /// A person at risk, or a hazard said to be happening now, and nothing that says it is
    /// past or only asked about: raises any decision to an emergency.
    pub danger: Vec<String>,
    /// Whether the words are medical (an emergency's reply then gives 119 too).
    pub medical: bool,
    /// A person's own case, a request for a person, a rumour, anger or an opinion asked of the
    /// city: blocks an automatic answer (the tweet goes to staff instead).
    pub no_answer: Vec<String>,
    /// The rule behind `no_answer`.
    pub no_answer_rule: &'static str,
}

impl Rules {
    /// Runs the safety net over an analysed text. It never picks a topic or an agency: it only
    /// raises a decision to an emergency or keeps an answer from going out automatically.
    pub(super) fn net(
        &self,
        analysis: &crate::language::Analysis,
        analyzer: &Analyzer,
        text: &str,
    ) -> Net {
        let stems = Stems::of(analysis, analyzer);
        let critical = self.critical.find(&stems);
        let hazard = self.hazard.find(&stems);
        let immediate = self.immediate.find(&stems);
        let defused = self.defused.find(&stems);
        let exclaimed = text.contains("!!");
        let danger =
            !critical.is_empty() || (!hazard.is_empty() && (!immediate.is_empty() || exclaimed));
        let mut net = Net {
            medical: !self.medical.find(&stems).is_empty(),
            ..Net::default()
        };
        if danger && defused.is_empty() {
            net.danger = [critical, hazard, immediate].concat();
        }
        for (set, rule) in [
            (&self.human, "net_asks_for_person"),
            (&self.own_case, "net_own_case"),
            (&self.sensitive, "net_sensitive"),
        ] {
            let hits = set.find(&stems);
            if !hits.is_empty() {
                net.no_answer = hits;
                net.no_answer_rule = rule;
                break;
            }
        }
        net
    }
}
